#ifndef CELLWEAVE_CRASH_GUARD_H
#define CELLWEAVE_CRASH_GUARD_H

// libhdf5 1.10 dereferences wild pointers (and corrupts its heap) on some corrupted files: a fault inside the library
// (or one of its filter plugins) is then the input's fault, not a bug of CellWeave. While a guard
// message is set, such a fault prints it, removes the output being written, and exits with
// status 1, as any other bad input does; a fault anywhere else goes on to the previous handler
// (Swift's backtrace).

// An HDF5 file opened for reading: installs the handlers (once), sets the start of the message
// printed on a fault inside libhdf5 from now on ("crashed reading it" follows), and refreshes which code is libhdf5's (plugins load late).
// The message stays for the rest of the process: libhdf5 closes a file only when its last object
// goes, and it may fault then.
void cw_crash_guard_set_message(const char *message);

// libhdf5 can also loop for ever on a corrupted file. While armed, a watchdog thread ends the
// process after `seconds` with the message ("did not finish reading it" following), exit 1 and
// the partial output removed. Arm around each read of an open file; disarm after it.
void cw_watchdog_arm(double seconds);
void cw_watchdog_disarm(void);

// Turns the guard off for good (a fuzzer reports faults itself).
void cw_crash_guard_disable(void);

// The partial output file to remove on such a fault (NULL: none).
void cw_crash_guard_set_partial_output(const char *path);

#endif
