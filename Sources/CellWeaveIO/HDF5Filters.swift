import CHDF5
#if canImport(Glibc)
import Glibc
#endif

/// The compression filters h5py, anndata and hdf5plugin users write, as HDF5 finds them: gzip is
/// built in, the others are plugins loaded from HDF5's plugin directory (Debian:
/// /usr/lib/x86_64-linux-gnu/hdf5/serial/plugins), installed by `make` from Debian's packages.
enum HDF5Filters {
    /// A registered filter id (The HDF Group's list), its name, and the Debian package whose
    /// plugin decodes it (nil: none does).
    static let lzf: Int32 = 32000
    static let known: [(id: Int32, name: String, package: String?)] = [
        (lzf, "LZF", "hdf5-plugin-lzf"),
        (32001, "Blosc", "hdf5-filter-plugin-blosc-serial"),
        (32004, "LZ4", "hdf5-filter-plugin"),
        (307, "BZip2", "hdf5-filter-plugin"),
        (32008, "Bitshuffle", nil),
        (32015, "Zstandard", nil),
        (32026, "Blosc2", nil),
    ]

    /// Debian's LZF plugin (hdf5-plugin-lzf 1.10.8) calls liblzf without naming it as a
    /// dependency, so dlopen refuses it unless liblzf's symbols are already global: load it so.
    static let dependenciesLoaded: Void = {
        _ = dlopen("liblzf.so.1", RTLD_NOW | RTLD_GLOBAL)
    }()

    private static func entry(_ filter: Int32) -> (id: Int32, name: String, package: String?)? { known.first { $0.id == filter } }
    private static func install(_ package: String) -> String { "install the Debian package \(package) (make deps does)" }

    /// Why `filter` cannot compress a dataset being written, or nil when it can.
    static func unavailableForWriting(_ filter: Int32) -> String? {
        dependenciesLoaded
        guard H5Zfilter_avail(H5Z_filter_t(filter)) <= 0 else { return nil }
        let known = entry(filter)
        return "cannot write with the HDF5 filter \(known?.name ?? "\(filter)"): \(install(known?.package ?? "providing it"))"
    }

    /// The first filter of a dataset's pipeline that HDF5 cannot apply, described with where to get
    /// it; nil when every filter is available (a failed read then has another cause).
    static func unavailable(in dataset: hid_t) -> String? {
        let plist = H5Dget_create_plist(dataset)
        guard plist >= 0 else { return nil }
        defer { H5Pclose(plist) }
        for i in 0..<max(H5Pget_nfilters(plist), 0) {
            var flags: UInt32 = 0, elements = 0, config: UInt32 = 0
            var name = [CChar](repeating: 0, count: 128)
            let filter = H5Pget_filter2(plist, UInt32(i), &flags, &elements, nil, name.count, &name, &config)
            guard filter >= 0, H5Zfilter_avail(filter) <= 0 else { continue }
            let known = entry(filter)
            let stored = String(cString: name)
            let label = known?.name ?? (stored.isEmpty ? "an unknown filter" : stored)
            let remedy = known?.package.map(install) ?? "no Debian package provides it; rewrite the file with gzip or lzf (h5py: compression='gzip')"
            return "compressed with the HDF5 filter \(label) (id \(filter)), which this HDF5 cannot decode: \(remedy)"
        }
        return nil
    }
}
