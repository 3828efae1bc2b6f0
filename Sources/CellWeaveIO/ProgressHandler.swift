/// Called with the file being read and the fraction done (0...1).
public typealias ProgressHandler = (_ file: String, _ fraction: Double) -> Void
