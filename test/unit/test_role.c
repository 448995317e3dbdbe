/* sl_role: every cell of the permission table, the change rules, and
 * docs/roles.md saying the same as the code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "sl_role.h"
#include "test_core.h"

/* the table, written out once more: a change to the code that is not
 * meant fails here */
static const char *const expected[SL_PERM_COUNT] = {
    /*                     OW AD MA RE AN DI NO */
    [SL_PERM_PEOPLE] =   "1110000",
    [SL_PERM_INVITE] =   "1110000",
    [SL_PERM_ROLES] =    "1100000",
    [SL_PERM_MANAGE] =   "1100000",
    [SL_PERM_PROJECTS] = "1110000",
    [SL_PERM_SETTINGS] = "1100000",
    [SL_PERM_AUDIT] =    "1100000",
    [SL_PERM_OWN] =      "1111100",
};

START_TEST(test_role_every_cell)
{
    int perm, role;

    for (perm = 0; perm < SL_PERM_COUNT; perm++) {
        for (role = 0; role < SL_ROLE_COUNT; role++) {
            ck_assert_msg(sl_role_may(1, role, perm) == (expected[perm][role] == '1'),
                          "%s / %s", sl_perm_name(perm), sl_role_code(role));
            /* roles off: everyone active may, nobody deactivated */
            ck_assert_int_eq(sl_role_may(0, role, perm), role != SL_ROLE_DI);
        }
    }
    ck_assert(!sl_role_may(1, SL_ROLE_COUNT, SL_PERM_OWN));
    ck_assert(!sl_role_may(0, SL_ROLE_AD, SL_PERM_COUNT));
}
END_TEST

START_TEST(test_role_codes_effective_shown)
{
    sl_role_e r;
    int i;

    for (i = 0; i < SL_ROLE_COUNT; i++) {
        ck_assert(sl_role_parse(sl_role_code(i), &r));
        ck_assert_int_eq(r, i);
        ck_assert_ptr_nonnull(sl_role_name(i));
    }
    ck_assert(!sl_role_parse("ad", &r));
    ck_assert(!sl_role_parse("", &r));
    ck_assert(!sl_role_parse(NULL, &r));
    ck_assert(!sl_role_parse("ADX", &r));
    ck_assert_int_eq(sl_role_effective("MA", 1), SL_ROLE_MA);
    ck_assert_int_eq(sl_role_effective("OW", 0), SL_ROLE_DI);
    ck_assert_int_eq(sl_role_effective("zz", 1), SL_ROLE_AN);
    ck_assert_int_eq(sl_role_effective("DI", 1), SL_ROLE_AN);
    ck_assert_int_eq(sl_role_effective(NULL, 1), SL_ROLE_AN);
    ck_assert_int_eq(sl_role_shown("RE", 1, NULL), SL_ROLE_NO);
    ck_assert_int_eq(sl_role_shown("RE", 1, ""), SL_ROLE_NO);
    ck_assert_int_eq(sl_role_shown("RE", 1, "1700000000"), SL_ROLE_RE);
    ck_assert_int_eq(sl_role_shown("RE", 0, NULL), SL_ROLE_DI);
    ck_assert(sl_role_default_ok(SL_ROLE_AN) && sl_role_default_ok(SL_ROLE_MA));
    ck_assert(!sl_role_default_ok(SL_ROLE_AD));
    ck_assert(!sl_role_default_ok(SL_ROLE_OW) && !sl_role_default_ok(SL_ROLE_DI)
              && !sl_role_default_ok(SL_ROLE_NO));
}
END_TEST

static sl_kind_e change(int on, sl_role_e actor, int self, sl_role_e target, sl_role_e to)
{
    sl_err_t err = { 0 };
    sl_kind_e k = sl_role_change_check(on, actor, self, target, to, &err, test_pool);

    ck_assert(k == SL_OK || (err.message && *err.message));
    return k;
}

START_TEST(test_role_change_rules)
{
    sl_err_t err = { 0 };
    int a, t, to;

    ck_assert_int_eq(change(0, SL_ROLE_OW, 0, SL_ROLE_AD, SL_ROLE_AN), SL_EINVALID);
    /* who may change roles at all */
    for (a = 0; a < SL_ROLE_COUNT; a++) {
        for (t = SL_ROLE_AD; t <= SL_ROLE_DI; t++) {
            for (to = SL_ROLE_AD; to <= SL_ROLE_AN; to++) {
                ck_assert_int_eq(change(1, a, 0, t, to),
                                 a == SL_ROLE_OW || a == SL_ROLE_AD ? SL_OK : SL_EFORBIDDEN);
            }
        }
    }
    /* the owner's role: only by a transfer */
    ck_assert_int_eq(change(1, SL_ROLE_AD, 0, SL_ROLE_OW, SL_ROLE_AN), SL_EFORBIDDEN);
    ck_assert_int_eq(change(1, SL_ROLE_OW, 1, SL_ROLE_OW, SL_ROLE_AD), SL_EFORBIDDEN);
    ck_assert_int_eq(change(1, SL_ROLE_OW, 1, SL_ROLE_OW, SL_ROLE_DI), SL_EFORBIDDEN);
    /* OW given: by the owner alone */
    ck_assert_int_eq(change(1, SL_ROLE_OW, 0, SL_ROLE_AD, SL_ROLE_OW), SL_OK);
    ck_assert_int_eq(change(1, SL_ROLE_OW, 0, SL_ROLE_AN, SL_ROLE_OW), SL_OK);
    ck_assert_int_eq(change(1, SL_ROLE_AD, 0, SL_ROLE_MA, SL_ROLE_OW), SL_EFORBIDDEN);
    ck_assert_int_eq(change(1, SL_ROLE_AD, 1, SL_ROLE_AD, SL_ROLE_OW), SL_EFORBIDDEN);
    /* DI: not oneself */
    ck_assert_int_eq(change(1, SL_ROLE_AD, 0, SL_ROLE_AN, SL_ROLE_DI), SL_OK);
    ck_assert_int_eq(change(1, SL_ROLE_AD, 1, SL_ROLE_AD, SL_ROLE_DI), SL_EFORBIDDEN);
    ck_assert_int_eq(change(1, SL_ROLE_MA, 0, SL_ROLE_AN, SL_ROLE_DI), SL_EFORBIDDEN);
    /* NO is never given, nor anything past the codes */
    ck_assert_int_eq(change(1, SL_ROLE_OW, 0, SL_ROLE_AN, SL_ROLE_NO), SL_EINVALID);
    ck_assert_int_eq(change(1, SL_ROLE_OW, 0, SL_ROLE_AN, SL_ROLE_COUNT), SL_EINVALID);
    /* the 403 names the permission */
    ck_assert_int_eq(sl_role_change_check(1, SL_ROLE_AN, 0, SL_ROLE_RE, SL_ROLE_MA, &err,
                                          test_pool), SL_EFORBIDDEN);
    ck_assert_ptr_nonnull(strstr(err.message, "change_roles"));
    ck_assert_ptr_nonnull(strstr(sl_role_missing(SL_ROLE_RE, SL_PERM_PEOPLE, test_pool),
                                 "view_people"));
}
END_TEST

/* docs/roles.md: one row per permission, "yes"/"no" for OW AD MA RE AN DI */
START_TEST(test_role_docs_table_is_the_code)
{
    const char *dir = getenv("SIALI_SRC_DIR") ? getenv("SIALI_SRC_DIR")
                      : getenv("SIALI_BUILD_DIR") ? getenv("SIALI_BUILD_DIR") : ".";
    FILE *f = fopen(apr_pstrcat(test_pool, dir, "/docs/roles.md", NULL), "r");
    char line[1024];
    int seen[SL_PERM_COUNT] = { 0 }, perm, rows = 0;

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f)) {
        char *last, *cell, *name;
        int col = 0, role;

        if (strncmp(line, "| `", 3)) {
            continue;
        }
        name = apr_strtok(apr_pstrdup(test_pool, line), "|", &last);
        name = apr_pstrndup(test_pool, name + 2, strcspn(name + 2, "`"));
        for (perm = 0; perm < SL_PERM_COUNT && strcmp(sl_perm_name(perm), name); perm++)
            ;
        if (perm == SL_PERM_COUNT) {
            continue;               /* the table of codes */
        }
        rows++;
        seen[perm]++;
        apr_strtok(NULL, "|", &last);       /* what it allows */
        ck_assert_ptr_nonnull(strstr(line, sl_perm_text(perm)));
        for (role = 0; role <= SL_ROLE_DI && (cell = apr_strtok(NULL, "|", &last)); role++) {
            apr_collapse_spaces(cell, cell);      /* (returns the end) */
            ck_assert_msg(!strcmp(cell, sl_role_may(1, role, perm) ? "yes" : "no"),
                          "docs/roles.md: %s / %s says %s", name, sl_role_code(role), cell);
            col++;
        }
        ck_assert_int_eq(col, SL_ROLE_DI + 1);
    }
    fclose(f);
    ck_assert_int_eq(rows, SL_PERM_COUNT);
    for (perm = 0; perm < SL_PERM_COUNT; perm++) {
        ck_assert_int_eq(seen[perm], 1);
    }
}
END_TEST

Suite *test_role_suite(void)
{
    Suite *s = suite_create("role");
    TCase *tc = tcase_create("sl_role");

    tcase_add_checked_fixture(tc, test_pool_setup, test_pool_teardown);
    tcase_add_test(tc, test_role_every_cell);
    tcase_add_test(tc, test_role_codes_effective_shown);
    tcase_add_test(tc, test_role_change_rules);
    tcase_add_test(tc, test_role_docs_table_is_the_code);
    suite_add_tcase(s, tc);
    return s;
}
