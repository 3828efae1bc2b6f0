/// A gather larger than MPI's 32-bit counts carry.
struct GatherError: Error, CustomStringConvertible {
    let values: Int
    var description: String { "\(values) values are more than one MPI gather carries (\(Int32.max))" }
}
