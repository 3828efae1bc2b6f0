#include <mpi.h>

/* Open MPI's handles are macros over addresses of its globals, which Swift cannot import. */
static inline MPI_Comm cw_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype cw_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cw_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op cw_mpi_sum(void) { return MPI_SUM; }
static inline void *cw_mpi_in_place(void) { return MPI_IN_PLACE; }
