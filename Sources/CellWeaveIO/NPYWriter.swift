import CellWeaveCore
import Foundation

/// numpy's .npy format (version 1.0), for embeddings that R and Python users load directly.
public enum NPYWriter {
    public static func encode(_ m: DenseMatrix) -> Data {
        var data = header(rows: m.rows, cols: m.cols)
        m.values.withUnsafeBytes { data.append(contentsOf: $0) } // little-endian hosts only, as numpy's '<f4'
        return data
    }

    /// What precedes the row-major float32 values of a rows x cols matrix.
    public static func header(rows: Int, cols: Int) -> Data {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(cols)), }"
        // Magic (6) + version (2) + length (2) + header, padded so the data is 64-byte aligned.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        return data
    }

    public static func write(_ m: DenseMatrix, to path: String) throws {
        try AtomicFile.write(encode(m), to: path)
    }
}
