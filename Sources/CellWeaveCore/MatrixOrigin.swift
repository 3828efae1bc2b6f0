import Foundation

/// Where a matrix was read from (an h5ad file and the HDF5 path of the element), kept while the
/// matrix is unchanged so that a writer can copy the stored values verbatim: CellWeave computes in
/// float32, and a float64 matrix written back from those values would lose its precision.
public struct MatrixOrigin: Sendable, Equatable {
    public let file: String
    public let path: String
    /// Write the element as an HDF5 external link to where it came from, not as a copy.
    public var asLink = false

    public init(file: String, path: String) {
        self.file = file
        self.path = path
    }

    /// A path as one file has one name (absolute, symlinks resolved), to tell whether two name it.
    public static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
