#ifndef CELLWEAVE_CZLIB_SHIM_H
#define CELLWEAVE_CZLIB_SHIM_H
#include <zlib.h>
#endif
