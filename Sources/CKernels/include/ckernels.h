#pragma once
int mlw_ckernels_version(void);
