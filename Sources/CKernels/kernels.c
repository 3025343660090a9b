#include "ckernels.h"
int mlw_ckernels_version(void) { return 1; }
