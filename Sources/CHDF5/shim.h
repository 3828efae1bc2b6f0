#ifndef CELLWEAVE_CHDF5_SHIM_H
#define CELLWEAVE_CHDF5_SHIM_H
#include <hdf5.h>

// HDF5's predefined type and property identifiers are macros that call H5open() and read a
// global; Swift cannot import them, so these wrappers expose them as functions.
static inline hid_t cw_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t cw_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t cw_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t cw_H5P_FILE_CREATE(void) { return H5P_FILE_CREATE; }
static inline hid_t cw_H5P_OBJECT_COPY(void) { return H5P_OBJECT_COPY; }
static inline unsigned cw_H5O_COPY_EXPAND_REFERENCE_FLAG(void) { return H5O_COPY_EXPAND_REFERENCE_FLAG; }
static inline unsigned cw_H5O_COPY_EXPAND_EXT_LINK_FLAG(void) { return H5O_COPY_EXPAND_EXT_LINK_FLAG; }
static inline hid_t cw_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline unsigned cw_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned cw_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }

static inline hid_t cw_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
static inline hid_t cw_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t cw_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t cw_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t cw_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t cw_H5T_C_S1(void) { return H5T_C_S1; }
static inline hid_t cw_H5T_STD_REF_OBJ(void) { return H5T_STD_REF_OBJ; }

// Little-endian file types, as h5py (and so anndata) writes them.
static inline hid_t cw_H5T_STD_I8LE(void) { return H5T_STD_I8LE; }
static inline hid_t cw_H5T_STD_I16LE(void) { return H5T_STD_I16LE; }
static inline hid_t cw_H5T_STD_I32LE(void) { return H5T_STD_I32LE; }
static inline hid_t cw_H5T_STD_I64LE(void) { return H5T_STD_I64LE; }
static inline hid_t cw_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
static inline hid_t cw_H5T_STD_U16LE(void) { return H5T_STD_U16LE; }
static inline hid_t cw_H5T_STD_U32LE(void) { return H5T_STD_U32LE; }
static inline hid_t cw_H5T_STD_U64LE(void) { return H5T_STD_U64LE; }
static inline hid_t cw_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t cw_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }
static inline size_t cw_H5T_VARIABLE(void) { return H5T_VARIABLE; }

// Errors are reported by CellWeave with the file and path; HDF5's own stack dump is noise.
static inline void cw_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
