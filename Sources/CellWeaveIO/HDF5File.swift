import CCrashGuard
import CHDF5
import Foundation

/// An open HDF5 file; as a group it is the root, "/".
public final class HDF5File: HDF5Group {
    private let fileID: hid_t

    private init(fileID: hid_t, root: hid_t, path: String) {
        self.fileID = fileID
        super.init(id: root, file: path, path: "/")
    }

    deinit { H5Fclose(fileID) }

    public static func open(_ path: String) throws -> HDF5File {
        cw_silence_errors()
        HDF5Filters.dependenciesLoaded
        guard FileManager.default.fileExists(atPath: path) else { throw InputError(.notFound, file: path, "no such file") }
        guard H5Fis_hdf5(path) > 0 else { throw InputError(.notH5ad, file: path, "not an HDF5 file") }
        // From here a fault inside libhdf5 is this file's (see CCrashGuard).
        cw_crash_guard_set_message("Error: \(path): corrupt HDF5 file: libhdf5 ")
        let f = H5Fopen(path, cw_H5F_ACC_RDONLY(), cw_H5P_DEFAULT())
        guard f >= 0 else { throw InputError(.hdf5, file: path, "HDF5 could not open the file") }
        return HDF5File(fileID: f, root: H5Gopen2(f, "/", cw_H5P_DEFAULT()), path: path)
    }

    /// Creates (truncating) a file; callers write to a temporary name and rename it. A userblock
    /// reserves that many bytes at the start of the file for a header of the caller's (h5mu's).
    public static func create(_ path: String, userblock: Int = 0) throws -> HDF5File {
        cw_silence_errors()
        var creation = cw_H5P_DEFAULT()
        if userblock > 0 {
            creation = H5Pcreate(cw_H5P_FILE_CREATE())
            H5Pset_userblock(creation, hsize_t(userblock))
        }
        defer { if userblock > 0 { H5Pclose(creation) } }
        let f = H5Fcreate(path, cw_H5F_ACC_TRUNC(), creation, cw_H5P_DEFAULT())
        guard f >= 0 else { throw InputError(.hdf5, file: path, "HDF5 could not create the file") }
        return HDF5File(fileID: f, root: H5Gopen2(f, "/", cw_H5P_DEFAULT()), path: path)
    }

    /// Writes everything to disk; errors here mean the output is incomplete.
    public func flush() throws {
        try check(H5Fflush(fileID, H5F_SCOPE_GLOBAL), "flush the file")
    }
}
