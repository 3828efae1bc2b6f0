import CellWeaveCore
import Foundation

/// Writes MuData's .h5mu as mudata 0.3 does, so that `mudata.read_h5mu` and muon open it: the
/// 512-byte userblock header, one AnnData group per modality under `mod/` (with `mod-order`), the
/// root obs, var (every modality's features in order), obsm, obsp, uns, and the maps
/// `obsmap/<mod>` and `varmap/<mod>` (1-based rows of the modality, 0 where a cell or feature is
/// not in it) with their boolean twins in obsm and varm. The file appears atomically.
public enum H5muWriter {
    /// mudata checks the first bytes for "MuData" and otherwise warns the file was not written by it.
    static let userblockSize = 512
    static let header = "MuData (format-version=0.1.0;creator=cellweave;creator-version=\(H5muWriter.formatVersion))"
    static let formatVersion = "0.1.0"

    public static func write(_ mdata: MuData, to path: String, compression: HDF5Compression = .none) throws {
        try AtomicFile.write(to: path) { temporary in
            try writeContents(mdata, to: temporary, compression: compression)
            // HDF5 leaves the userblock alone: the header goes in once the file is closed.
            guard let handle = FileHandle(forWritingAtPath: temporary) else {
                throw OutputError(path: path, message: "could not reopen the file to write its MuData header")
            }
            defer { try? handle.close() }
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: Data(header.utf8))
        }
    }

    private static func writeContents(_ mdata: MuData, to temporary: String, compression: HDF5Compression) throws {
        let file = try HDF5File.create(temporary, userblock: userblockSize)
        try file.setEncoding("MuData", version: formatVersion)
        try file.setAttribute("encoder", string: "cellweave")
        try file.setAttribute("axis", integer: 0)

        let mods = try file.createGroup("mod")
        try mods.setAttribute("mod-order", strings: mdata.modalities.map(\.name))
        for m in mdata.modalities {
            let g = try mods.createGroup(m.name)
            try H5adWriter.write(m.data, into: g, compression: compression)
        }

        try H5adWriter.writeDataFrame(mdata.obs, in: file, name: "obs", compression: compression)
        var features = DataFrame(index: mdata.modalities.flatMap(\.data.varTable.index))
        features.indexName = "_index"
        try H5adWriter.writeDataFrame(features, in: file, name: "var", compression: compression)

        let n = mdata.nObs, totalFeatures = features.rowCount
        let obsm = try file.createDictGroup("obsm"), varm = try file.createDictGroup("varm")
        let obsmap = try file.createDictGroup("obsmap"), varmap = try file.createDictGroup("varmap")
        var featureOffset = 0
        for m in mdata.modalities {
            var rows = [Int64](repeating: 0, count: n)
            for (i, c) in m.cells.enumerated() { rows[c] = Int64(i + 1) }
            try obsmap.writeDataset(m.name, int64s: rows, as: .uint32, compression: compression).setEncoding("array", version: "0.2.0")
            try obsm.writeDataset(m.name, bools: rows.map { $0 > 0 }, dims: [n, 1], compression: compression)
                .setEncoding("array", version: "0.2.0")
            var columns = [Int64](repeating: 0, count: totalFeatures)
            for j in 0..<m.data.nVars { columns[featureOffset + j] = Int64(j + 1) }
            try varmap.writeDataset(m.name, int64s: columns, as: .uint32, compression: compression).setEncoding("array", version: "0.2.0")
            try varm.writeDataset(m.name, bools: columns.map { $0 > 0 }, dims: [totalFeatures, 1], compression: compression)
                .setEncoding("array", version: "0.2.0")
            featureOffset += m.data.nVars
        }
        for (name, matrix) in mdata.obsm where !mdata.modalities.contains(where: { $0.name == name }) {
            try H5adWriter.writeMatrix(matrix, in: obsm, name: name, compression: compression)
        }

        var sources: [String: HDF5File] = [:]
        for element in mdata.passthrough {
            let source = try sources[element.sourceFile] ?? HDF5File.open(element.sourceFile)
            sources[element.sourceFile] = source
            if element.destinationPath.hasPrefix("obsm/") {
                let name = String(element.destinationPath.dropFirst(5))
                guard !obsm.contains(name) else { continue }
                try H5adWriter.carry(element, from: source, into: obsm, as: name)
            } else if !file.contains(element.destinationPath) {
                try H5adWriter.carry(element, from: source, into: file, as: element.destinationPath)
            }
        }
        for name in ["obsp", "uns", "varp"] where !file.contains(name) { _ = try file.createDictGroup(name) }
        let obsp = try file.group("obsp"), uns = try file.group("uns")
        for (name, matrix) in mdata.obsp {
            try obsp.remove(name)
            try H5adWriter.writeMatrix(matrix, in: obsp, name: name, compression: compression)
        }
        for (name, value) in mdata.uns {
            try uns.remove(name)
            try H5adWriter.writeUns(value, in: uns, name: name, compression: compression)
        }
        try file.flush()
    }
}
