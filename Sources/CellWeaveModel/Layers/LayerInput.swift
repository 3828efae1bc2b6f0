/// What a hidden layer reads: a dense activation (rows x inputs) or the sparse log1p counts.
public enum LayerInput<T: ModelScalar> {
    case dense(UnsafePointer<T>)
    case sparse(SparseBatch<T>)
}
