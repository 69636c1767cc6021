#ifndef STRATA_COPENBLAS_SHIM_H
#define STRATA_COPENBLAS_SHIM_H
// Debian puts cblas.h under /usr/include/x86_64-linux-gnu/openblas-pthread/ (pkg-config's
// cflags name that folder); <cblas.h> also resolves through the alternatives symlinks.
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
