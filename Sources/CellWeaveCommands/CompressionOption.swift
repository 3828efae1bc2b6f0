import ArgumentParser
import CellWeaveIO

/// How a stage compresses the HDF5 datasets it writes. Every matrix is written chunked either
/// way, so that ranges of rows read cheaply; elements carried from the input keep their form.
struct CompressionOption: ParsableArguments {
    @Option(help: "Dataset compression of the output: none (anndata's default), gzip (level 4) or lzf (h5py's; fast).")
    var compression: CompressionChoice = .none

    var hdf5: HDF5Compression {
        switch compression {
        case .none: return .none
        case .gzip: return .gzip(level: 4)
        case .lzf: return .lzf
        }
    }
}

enum CompressionChoice: String, ExpressibleByArgument, CaseIterable {
    case none, gzip, lzf
}
