import CHDF5
import CellWeaveCore

/// Writes an h5ad that is another one plus some obs and var columns, obsm and varm entries and uns values, without
/// reading the other's matrices: each of its elements is linked to where it is stored
/// (`linkUnchanged`) or copied by HDF5 as stored, so a stage that adds an embedding to counts
/// larger than memory (a streamed `embed`, `score` or `hvg`) writes in bounded memory. Entries of
/// the same name are replaced (a replaced column keeps its place in the column order, a new one
/// is appended). `obsmBlocks` are written block of rows by block as their stage computes them. The
/// file appears atomically.
public enum H5adAdditionWriter {
    public static func write(to path: String, from source: String, obs: [(name: String, values: ColumnValues)] = [],
                             var varColumns: [(name: String, values: ColumnValues)] = [], obsm: [(name: String, matrix: AnnMatrix)] = [],
                             obsmBlocks: [ObsmRowBlocks] = [],
                             varm: [(name: String, matrix: AnnMatrix)] = [], uns: [(name: String, value: UnsValue)] = [],
                             linkUnchanged: Bool, compression: HDF5Compression = .none) throws {
        try AtomicFile.write(to: path) { temporary in
            let input = try HDF5File.open(source), file = try HDF5File.create(temporary)
            try file.setEncoding("anndata", version: "0.1.0")
            var added = ["obsm": obsm.map(\.name) + obsmBlocks.map(\.name), "varm": varm.map(\.name), "uns": uns.map(\.name)]
            let columns = ["obs": obs, "var": varColumns].filter { !$0.value.isEmpty }
            for (table, values) in columns { added[table] = values.map(\.name) }
            for child in try input.childNames() {
                // The groups that gain entries are this file's own, their other children linked.
                try file.linkOrCopy(child, from: input, as: child, link: linkUnchanged, childByChild: added[child] != nil)
                if let names = added[child], file.isGroup(child) {
                    let group = try file.group(child)
                    for name in names { try group.remove(name) }
                }
            }
            for name in ["obsm", "varm", "uns"] where !file.contains(name) { _ = try file.createDictGroup(name) }
            for (table, values) in columns {
                let group = try file.group(table)
                let order = group.hasAttribute("column-order") ? try group.stringArrayAttribute("column-order") : []
                for (name, column) in values { try H5adWriter.writeColumn(column, in: group, name: name, compression: compression) }
                try group.setAttribute("column-order", strings: order + values.map(\.name).filter { !order.contains($0) })
            }
            let obsmGroup = try file.group("obsm"), varmGroup = try file.group("varm"), unsGroup = try file.group("uns")
            for (name, m) in obsm { try H5adWriter.writeMatrix(m, in: obsmGroup, name: name, compression: compression) }
            for blocks in obsmBlocks {
                let ds = try obsmGroup.writeDataset(blocks.name, dims: [blocks.rows, blocks.columns], memType: cw_H5T_NATIVE_FLOAT(),
                                                    fileType: cw_H5T_IEEE_F32LE(), compression: compression, data: nil)
                try ds.setEncoding("array", version: "0.2.0")
                var written = 0
                try blocks.produce { rows, values in
                    try ds.write(rows: rows, floats: values)
                    written += rows.count
                }
                guard written == blocks.rows else { throw OutputError(path: path, message: "obsm \(blocks.name): \(written) of \(blocks.rows) rows were written") }
            }
            for (name, m) in varm { try H5adWriter.writeMatrix(m, in: varmGroup, name: name, compression: compression) }
            for (name, value) in uns { try H5adWriter.writeUns(value, in: unsGroup, name: name, compression: compression) }
            try file.flush()
        }
    }
}
