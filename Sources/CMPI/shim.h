#include <mpi.h>

/* Open MPI's handles are macros over addresses of its globals, which Swift cannot import. */
static inline MPI_Comm cw_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype cw_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cw_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op cw_mpi_sum(void) { return MPI_SUM; }
static inline void *cw_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Datatype cw_mpi_int(void) { return MPI_INT; }
static inline MPI_Op cw_mpi_max(void) { return MPI_MAX; }
static inline MPI_Info cw_mpi_info_null(void) { return MPI_INFO_NULL; }
static inline int cw_mpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline int cw_mpi_mode_nocheck(void) { return MPI_MODE_NOCHECK; }
static inline MPI_Datatype cw_mpi_byte(void) { return MPI_BYTE; }
