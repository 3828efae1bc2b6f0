import CVectorMath

extension CountLikelihood {
    /// The negative binomial's pass over one row in C, for Float: the operations of `row`'s Swift
    /// code in the same order, 8 lanes wide where it is SIMD8, so the bits are the same; built for
    /// AVX2 too, where Swift's SIMD8 becomes two SSE operations. T must be Float.
    static func negativeBinomialRowInC<T: ModelScalar>(_ r: Row<T>, genes g: Int, geneIndex: UnsafeBufferPointer<Int32>,
                                                      counts: UnsafeBufferPointer<T>, integerCounts: UnsafeBufferPointer<Int32>,
                                                      logFactorials: UnsafeBufferPointer<Double>, scale: T,
                                                      rho: UnsafeMutablePointer<T>, meanGradient: UnsafeMutablePointer<T>,
                                                      scratch: UnsafeMutablePointer<T>, logThetaPlusMean: UnsafeMutablePointer<T>) -> Double {
        precondition(T.self == Float.self)
        let float = T.float as (UnsafePointer<T>) -> UnsafePointer<Float>, mutableFloat = T.float as (UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float>
        var arguments = cw_nb_row_arguments(
            logits: float(r.logits), library: Float(r.library), scale: Float(scale), genes: g,
            geneIndex: geneIndex.baseAddress, counts: counts.baseAddress.map(float), integerCounts: integerCounts.baseAddress,
            logFactorials: logFactorials.baseAddress, first: r.nonzeros.lowerBound, last: r.nonzeros.upperBound,
            theta: float(r.theta), logTheta: r.logTheta.map(float), gammaTable: float(r.gammaTable), digammaTable: float(r.digammaTable),
            tableCounts: r.tableCounts, logGammaTheta: r.logGammaTheta, digammaTheta: r.digammaTheta,
            logitGradient: r.logitGradient.map(mutableFloat), logThetaGradient: r.logThetaGradient.map(mutableFloat),
            proportions: mutableFloat(rho), meanGradient: mutableFloat(meanGradient), scratch: mutableFloat(scratch),
            logThetaPlusMean: mutableFloat(logThetaPlusMean),
            gammaDifferences: gammaDifferencesForC)
        return cw_nb_row(&arguments)
    }

    /// `gammaDifferences` for the counts the kernel's tables do not hold.
    private static let gammaDifferencesForC: @convention(c) (Double, Double, Double, Double, Double, UnsafeMutablePointer<Double>?,
                                                              UnsafeMutablePointer<Double>?) -> Void = {
        x, theta, logTheta, logGammaTheta, digammaTheta, logGammaRatio, digammaDifference in
        (logGammaRatio!.pointee, digammaDifference!.pointee) = CountLikelihood.gammaDifferences(
            x, theta: theta, logTheta: logTheta, logGammaTheta: logGammaTheta, digammaTheta: digammaTheta)
    }
}
