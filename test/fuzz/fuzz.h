/* libFuzzer entry point shared by the fuzz targets; standalone.c replays
 * corpora through the same function in `make check`. */
#ifndef SIALI_FUZZ_H
#define SIALI_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
