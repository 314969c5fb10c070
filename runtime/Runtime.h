/*===- Runtime.h - What a generated executable hands the runtime -*- C -*-===*\
 *
 * `convseqc --emit=exe` compiles a model to an object and writes a small C
 * main that describes it: its entry points with their slot tables (from the
 * generated header), the resolved settings and the model definition. That
 * main calls convseq_main, which implements the command line (train, eval,
 * predict, info). The model's math comes only from the entry points.
 *
\*===----------------------------------------------------------------------===*/

#ifndef CONVSEQ_RUNTIME_RUNTIME_H
#define CONVSEQ_RUNTIME_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The slot description of the generated headers (lib/Target/CPU/Header.cpp
 * writes the same definitions under the same guard). */
#ifndef CONVSEQ_ABI_DEFINED
#define CONVSEQ_ABI_DEFINED
#define CONVSEQ_MEMREF(T, R) \
  struct { T *allocated; T *aligned; int64_t offset; int64_t sizes[R]; int64_t strides[R]; }
enum convseq_role { CONVSEQ_PARAM, CONVSEQ_INPUT, CONVSEQ_OUTPUT };
enum convseq_dtype { CONVSEQ_F32, CONVSEQ_F64, CONVSEQ_BF16, CONVSEQ_I1, CONVSEQ_I32, CONVSEQ_I64, CONVSEQ_INDEX };
typedef struct {
  const char *name;
  enum convseq_role role;
  enum convseq_dtype dtype;
  int rank;
  int64_t shape[4];
  int updated;
} convseq_arg_info;
#endif

/* One compiled entry point: `function(args)` with the slots of `args`. */
typedef struct {
  const char *name;
  void (*function)(void **);
  const convseq_arg_info *args;
  int num_args;
} convseq_entry_point;

/* The table row of the entry point `name` of a generated header included
 * before: CONVSEQ_ENTRY_POINT(decoder_step). */
/* clang-format off */
#define CONVSEQ_ENTRY_POINT(name)                                           \
  { #name, convseq_##name, convseq_##name##_args,                           \
    (int)(sizeof(convseq_##name##_args) / sizeof(convseq_##name##_args[0])) }
/* clang-format on */

/* A compiled model. `settings` holds the resolved model definition as
 * `key=value` lines (lib/Frontend/RuntimeSettings.cpp writes them);
 * `definition` is the text of the model file it was compiled from. */
typedef struct {
  const char *name;
  const convseq_entry_point *entries;
  int num_entries;
  const char *settings;
  const char *definition;
} convseq_model;

/* The command line of a generated executable; returns the exit status. */
int convseq_main(int argc, char **argv, const convseq_model *model);

#ifdef __cplusplus
}
#endif

#endif /* CONVSEQ_RUNTIME_RUNTIME_H */
