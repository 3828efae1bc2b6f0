import CellWeaveCore
import Foundation
import Testing

@Suite struct MemoryLimitTests {
    @Test func sizesParseInBinaryUnits() {
        #expect(MemoryLimit.parse("1G") == 1 << 30 && MemoryLimit.parse("512m") == 512 << 20 && MemoryLimit.parse("64KiB") == 64 << 10)
        #expect(MemoryLimit.parse("1.5G") == 3 << 29 && MemoryLimit.parse("1000") == 1000 && MemoryLimit.parse("2 TB") == 2 << 40)
        #expect(MemoryLimit.parse("") == nil && MemoryLimit.parse("lots") == nil && MemoryLimit.parse("-1G") == nil)
    }

    @Test func aReadBeyondTheLimitIsRefusedWithTheSizes() {
        #expect(MemoryLimit.refusal(needing: 1 << 20) == nil)
        #expect(MemoryLimit.refusal(needing: nil)?.contains("more than 2^63 bytes") == true)
        #expect(MemoryLimit.refusal(needing: Int(MemoryLimit.bytes) + 1)?.contains("more than this process may use") == true)
    }
}
