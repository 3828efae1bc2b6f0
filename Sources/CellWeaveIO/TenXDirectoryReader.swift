import CellWeaveCore
import Foundation

/// Reads a Cell Ranger matrix directory: v3 (matrix.mtx.gz, features.tsv.gz, barcodes.tsv.gz)
/// or v2 (matrix.mtx, genes.tsv, barcodes.tsv), each file gzipped or not.
public enum TenXDirectoryReader {
    public static func isMatrixDirectory(_ path: String) -> Bool {
        (try? locate(path, ["matrix.mtx"])) != nil
    }

    public static func read(directory: String, progress: ProgressHandler? = nil) throws -> FeatureBarcodeMatrix {
        let matrixPath = try locate(directory, ["matrix.mtx"])
        let featuresPath = try locate(directory, ["features.tsv", "genes.tsv"])
        let barcodesPath = try locate(directory, ["barcodes.tsv"])

        let barcodes = try readBarcodes(barcodesPath)
        let features = try readFeatures(featuresPath)
        let (header, counts) = try MatrixMarketReader.read(path: matrixPath, transpose: true, progress: progress)
        guard header.rows == features.ids.count else {
            throw InputError(.mismatch, file: featuresPath, "\(features.ids.count) features, but \(matrixPath) has \(header.rows) rows")
        }
        guard header.cols == barcodes.count else {
            throw InputError(.mismatch, file: barcodesPath, "\(barcodes.count) barcodes, but \(matrixPath) has \(header.cols) columns")
        }
        return FeatureBarcodeMatrix(counts: counts, barcodes: barcodes, featureIDs: features.ids, featureNames: features.names,
                                    featureTypes: features.types, genomes: nil)
    }

    /// The first of `stems` present in `directory`, plain or with .gz.
    static func locate(_ directory: String, _ stems: [String]) throws -> String {
        for stem in stems {
            for name in [stem + ".gz", stem] {
                let p = (directory as NSString).appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: p) { return p }
            }
        }
        throw InputError(.notFound, file: directory, "not a Cell Ranger matrix directory: no \(stems.joined(separator: " or ")) (.gz)")
    }

    static func readBarcodes(_ path: String) throws -> [String] {
        // As scanpy: the first tab-separated field of each line.
        let barcodes = try LineSplitter.readAllLines(path: path).map { line in
            line.utf8.contains(9) ? String(line.prefix { $0 != "\t" }) : line
        }
        var seen = Set<String>(minimumCapacity: barcodes.count)
        for (i, barcode) in barcodes.enumerated() {
            if barcode.isEmpty {
                throw InputError(.value, file: path, .line(i + 1), "empty barcode")
            }
            if !seen.insert(barcode).inserted {
                let first = barcodes.firstIndex(of: barcode)! + 1
                throw InputError(.duplicate, file: path, .line(i + 1), "duplicate barcode '\(barcode)' (first on line \(first))")
            }
        }
        return barcodes
    }

    static func readFeatures(_ path: String) throws -> (ids: [String], names: [String], types: [String]) {
        var ids: [String] = [], names: [String] = [], types: [String] = []
        for (i, line) in try LineSplitter.readAllLines(path: path).enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 2, !fields[0].isEmpty else {
                throw InputError(.value, file: path, .line(i + 1), "expected 'id<TAB>name[<TAB>type]', found '\(line.prefix(80))'")
            }
            ids.append(fields[0])
            names.append(fields[1])
            // Cell Ranger v2 genes.tsv has no type column: every feature is a gene.
            types.append(fields.count >= 3 && !fields[2].isEmpty ? fields[2] : "Gene Expression")
        }
        return (ids, names, types)
    }
}
