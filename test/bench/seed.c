/* seed: fills a database with N accounts (and some projects and
 * annotations) straight through the core's statements, in one transaction
 * per 1,000 accounts, for the People benchmark.
 *
 *   seed DRIVER:PARAMS N [--projects-every K]
 *
 * Every account shares one password hash (hashing 100,000 times would time
 * argon2, not the members list). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "sl_account.h"
#include "sl_db.h"
#include "sl_log.h"
#include "sl_org.h"
#include "sl_password.h"
#include "sl_schema.h"
#include "sl_secret.h"

static const char *const firsts[] = { "Ada", "Grace", "Alan", "Edsger", "Barbara",
    "Donald", "Margaret", "Ken", "Frances", "Niklaus", "Radia", "Linus", NULL };
static const char *const lasts[] = { "Lovelace", "Hopper", "Turing", "Dijkstra",
    "Liskov", "Knuth", "Hamilton", "Thompson", "Allen", "Wirth", "Perlman", NULL };

static void log_stderr(void *baton, sl_log_level_e level, const char *file, int line,
                       const char *msg)
{
    if (level <= SL_LOG_WARNING) {
        fprintf(stderr, "seed: %s\n", msg);
    }
}

static int run(sl_db_t *db, const char *sql_label, int nargs, const char **args,
               sl_rows_t *res, apr_pool_t *p)
{
    sl_err_t err;
    sl_kind_e k = res ? sl_db_select(db, p, sql_label, res, nargs, args, &err)
                      : sl_db_exec(db, p, sql_label, NULL, nargs, args, &err);

    if (k != SL_OK) {
        fprintf(stderr, "seed: %s: %s\n", sql_label, err.message);
        exit(1);
    }
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p, *it;
    sl_db_t *db;
    sl_err_t err;
    sl_org_t *org;
    const char *colon, *phc, *now;
    sl_argon2_params_t cheap = { 64, 1, 1 };
    long n, i, every = 10, nf = 12, nl = 11;
    sl_rows_t res;

    if (argc < 3 || !(colon = strchr(argv[1], ':'))) {
        fprintf(stderr, "usage: seed DRIVER:PARAMS N [--projects-every K]\n");
        return 2;
    }
    if (argc == 5 && !strcmp(argv[3], "--projects-every")) {
        every = atol(argv[4]);
    }
    n = atol(argv[2]);
    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    sl_log_set(log_stderr, NULL);
    if (sl_db_open(&db, apr_pstrmemdup(p, argv[1], colon - argv[1]), colon + 1, 0, &err, p)
        != SL_OK || sl_schema_migrate(db, 0, NULL, &err, p) != SL_OK
        || sl_db_prepare_all(db, &err) != SL_OK || sl_org_get(db, &org, &err, p) != SL_OK) {
        fprintf(stderr, "seed: %s\n", err.message);
        return 1;
    }
    sl_password_hash(&phc, "seeded-password", 15, &cheap, p);
    now = sl_i64(sl_now(), p);
    apr_pool_create(&it, p);
    for (i = 0; i < n; i++) {
        const char *args[5], *uid, *token;
        char email[64], username[64];

        if (i % 1000 == 0) {
            if (i) {
                sl_db_tx_end(db, 1, NULL);
            }
            apr_pool_clear(it);
            sl_db_tx_begin(db, NULL);
        }
        snprintf(username, sizeof(username), "user%06ld", i);
        snprintf(email, sizeof(email), "user%06ld@seed.example", i);
        args[0] = email;
        args[1] = username;
        args[2] = phc;
        args[3] = sl_i64(sl_now() - (n - i), it);    /* joined in order */
        run(db, "siali_user_insert", 4, args, &res, it);
        uid = SL_ROW(&res, 0)[0];
        /* names and activity so every ordering and search has work */
        args[0] = firsts[i % nf];
        args[1] = apr_psprintf(it, "%s%ld", lasts[(i / nf) % nl], i % 997);
        args[2] = "";
        args[3] = username;
        args[4] = uid;
        run(db, "siali_user_set_names", 5, args, NULL, it);
        args[0] = apr_pstrcat(it, email, " ", username, " ", firsts[i % nf], " ",
                              args[1], NULL);
        {
            char *c;
            for (c = (char *)args[0]; *c; c++) {
                *c = apr_tolower(*c);
            }
        }
        args[1] = args[0];
        args[0] = uid;
        run(db, "siali_user_search_insert", 2, args, NULL, it);
        args[0] = sl_i64(sl_now() - (i * 7919) % 86400, it);
        args[1] = uid;
        args[2] = args[0];
        run(db, "siali_user_touch", 3, args, NULL, it);
        args[0] = uid;
        args[1] = org->id;
        args[2] = now;
        run(db, "siali_membership_insert", 3, args, NULL, it);
        args[0] = org->id;
        args[1] = uid;
        run(db, "siali_user_set_org", 2, args, NULL, it);
        sl_secret_hex(&token, SL_TOKEN_BYTES, it);
        args[0] = uid;
        args[1] = token;
        args[2] = sl_secret_sha256_hex(token, it);
        args[3] = now;
        run(db, "siali_token_insert", 4, args, NULL, it);
        if (every > 0 && i % every == 0) {
            const char *pid, *tid;
            args[0] = apr_psprintf(it, "Project %ld", i);
            args[1] = "";
            args[2] = uid;
            args[3] = now;
            run(db, "siali_project_insert", 4, args, &res, it);
            pid = SL_ROW(&res, 0)[0];
            args[0] = pid;
            args[1] = "{\"text\":\"seeded\"}";
            args[2] = now;
            run(db, "siali_task_insert", 3, args, &res, it);
            tid = SL_ROW(&res, 0)[0];
            /* the next account annotates it: a contribution */
            args[0] = tid;
            args[1] = pid;
            args[2] = sl_i64(apr_atoi64(uid) + 1, it);
            args[3] = "[]";
            args[4] = now;
            run(db, "siali_annotation_insert", 5, args, &res, it);
        }
    }
    if (n > 0) {
        sl_db_tx_end(db, 1, NULL);
    }
    /* the members counters, as the core keeps them */
    run(db, "siali_org_recount", 0, NULL, NULL, p);
    printf("seeded %ld accounts\n", n);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
