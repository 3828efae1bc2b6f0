import Foundation

/// Small self-contained SVG charts: nothing from the network, readable in any browser.
public struct SVGPlot {
    public var width = 420.0
    public var height = 260.0
    let margin = (left: 56.0, right: 14.0, top: 28.0, bottom: 42.0)
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logX = false
    public var logY = false

    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logX = logX
        self.logY = logY
    }

    /// A vertical marker at x, e.g. a filter threshold.
    public struct Marker {
        public var x: Double
        public var label: String
        public init(x: Double, label: String) { self.x = x; self.label = label }
    }

    func transform(_ v: Double, log: Bool) -> Double { log ? Foundation.log10(max(v, 1e-9)) : v }

    func frame(xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, body: (_ sx: (Double) -> Double, _ sy: (Double) -> Double) -> String) -> String {
        let x0 = transform(xRange.lowerBound, log: logX), x1 = transform(xRange.upperBound, log: logX)
        let y0 = transform(yRange.lowerBound, log: logY), y1 = transform(yRange.upperBound, log: logY)
        let pw = width - margin.left - margin.right, ph = height - margin.top - margin.bottom
        let sx: (Double) -> Double = { margin.left + (transform($0, log: logX) - x0) / max(x1 - x0, 1e-12) * pw }
        let sy: (Double) -> Double = { margin.top + ph - (transform($0, log: logY) - y0) / max(y1 - y0, 1e-12) * ph }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">"
        svg += "<text x=\"\(Int(width / 2))\" y=\"16\" text-anchor=\"middle\" class=\"t\">\(escape(title))</text>"
        svg += "<rect x=\"\(fmt(margin.left))\" y=\"\(fmt(margin.top))\" width=\"\(fmt(pw))\" height=\"\(fmt(ph))\" class=\"frame\"/>"
        for (i, v) in ticks(x0, x1).enumerated() where i < 6 {
            let value = logX ? pow(10, v) : v
            svg += "<text x=\"\(fmt(sx(value)))\" y=\"\(fmt(height - margin.bottom + 14))\" text-anchor=\"middle\" class=\"a\">\(label(value))</text>"
        }
        for v in ticks(y0, y1) {
            let value = logY ? pow(10, v) : v
            svg += "<text x=\"\(fmt(margin.left - 4))\" y=\"\(fmt(sy(value) + 3))\" text-anchor=\"end\" class=\"a\">\(label(value))</text>"
        }
        svg += "<text x=\"\(Int(width / 2))\" y=\"\(Int(height - 6))\" text-anchor=\"middle\" class=\"a\">\(escape(xLabel))</text>"
        svg += "<text transform=\"translate(12 \(Int(height / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"a\">\(escape(yLabel))</text>"
        svg += body(sx, sy)
        return svg + "</svg>"
    }

    /// Histogram of `values` (NaN ignored) with threshold markers.
    public func histogram(_ values: [Double], bins: Int = 40, markers: [Marker] = []) -> String {
        let v = values.filter { $0.isFinite && (!logX || $0 > 0) }
        guard var lo = v.min(), var hi = v.max() else { return frame(xRange: 0...1, yRange: 0...1) { _, _ in "" } }
        // Show the thresholds even when every cell lies on one side, and give a constant metric some width.
        for m in markers where m.x.isFinite && (!logX || m.x > 0) { lo = min(lo, m.x); hi = max(hi, m.x) }
        if hi - lo < 1e-9 { hi = logX ? lo * 10 : lo + 1 }
        let tlo = transform(lo, log: logX), thi = transform(hi, log: logX)
        var counts = [Int](repeating: 0, count: bins)
        for x in v { counts[min(bins - 1, Int((transform(x, log: logX) - tlo) / (thi - tlo) * Double(bins)))] += 1 }
        let edge: (Int) -> Double = { i in
            let t = tlo + (thi - tlo) * Double(i) / Double(bins)
            return logX ? pow(10, t) : t
        }
        let top = Double(counts.max() ?? 1)
        return frame(xRange: lo...hi, yRange: 0...top) { sx, sy in
            var s = ""
            for (i, c) in counts.enumerated() where c > 0 {
                let x = sx(edge(i)), w = max(sx(edge(i + 1)) - x - 0.5, 0.5)
                s += "<rect x=\"\(fmt(x))\" y=\"\(fmt(sy(Double(c))))\" width=\"\(fmt(w))\" height=\"\(fmt(sy(0) - sy(Double(c))))\" class=\"bar\"/>"
            }
            for m in markers where m.x.isFinite {
                let x = sx(min(max(m.x, lo), hi))
                s += "<line x1=\"\(fmt(x))\" x2=\"\(fmt(x))\" y1=\"\(fmt(sy(top)))\" y2=\"\(fmt(sy(0)))\" class=\"cut\"/>"
                let nearRight = x > width * 0.75 // label inside the frame, on the side with room
                s += "<text x=\"\(fmt(nearRight ? x - 3 : x + 3))\" y=\"\(fmt(sy(top) + 10))\" text-anchor=\"\(nearRight ? "end" : "start")\" class=\"a cutl\">\(escape(m.label))</text>"
            }
            return s
        }
    }

    /// A polyline through (x, y) points.
    public func line(_ xs: [Double], _ ys: [Double], markersY: [Marker] = []) -> String {
        guard let xl = xs.min(), let xh = xs.max(), let yl = ys.min(), let yh = ys.max() else { return frame(xRange: 0...1, yRange: 0...1) { _, _ in "" } }
        return frame(xRange: xl...max(xh, xl + 1), yRange: yl...max(yh, yl + 1)) { sx, sy in
            var s = "<polyline class=\"ln\" points=\""
            s += zip(xs, ys).map { "\(fmt(sx($0))),\(fmt(sy($1)))" }.joined(separator: " ")
            s += "\"/>"
            for m in markersY where m.x.isFinite && m.x >= yl && m.x <= yh {
                let y = sy(m.x)
                s += "<line x1=\"\(fmt(sx(xl)))\" x2=\"\(fmt(sx(xh)))\" y1=\"\(fmt(y))\" y2=\"\(fmt(y))\" class=\"cut\"/>"
                s += "<text x=\"\(fmt(sx(xh) - 2))\" y=\"\(fmt(y - 3))\" text-anchor=\"end\" class=\"a cutl\">\(escape(m.label))</text>"
            }
            return s
        }
    }

    /// Points coloured by `colour` on a white-to-red scale between its 0th and 99th percentile.
    public func scatter(_ xs: [Double], _ ys: [Double], colour: [Double]) -> String {
        let finiteColour = colour.filter(\.isFinite).sorted()
        let cmax = finiteColour.isEmpty ? 1 : max(finiteColour[Int(Double(finiteColour.count - 1) * 0.99)], 1e-9)
        guard let xl = xs.min(), let xh = xs.max(), let yl = ys.min(), let yh = ys.max() else { return frame(xRange: 0...1, yRange: 0...1) { _, _ in "" } }
        return frame(xRange: xl...max(xh, xl + 1), yRange: yl...max(yh, yl + 1)) { sx, sy in
            var s = ""
            for i in xs.indices {
                // A missing value (NaN: e.g. a cell without protein) is grey.
                let fill: String
                if colour[i].isFinite {
                    let t = min(colour[i] / cmax, 1)
                    let g = Int(200 * (1 - t)), r = Int(60 + 180 * t)
                    fill = "rgb(\(r),\(g),\(max(g - 40, 0)))"
                } else {
                    fill = "#cccccc"
                }
                s += "<circle cx=\"\(fmt(sx(xs[i])))\" cy=\"\(fmt(sy(ys[i])))\" r=\"1.6\" fill=\"\(fill)\"/>"
            }
            return s
        }
    }
}

extension SVGPlot {
    /// A palette of distinguishable colours (Tableau 10, then repeated lighter).
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    /// Points coloured by category (code per point into `names`; -1: grey), with a legend.
    public func scatter(_ xs: [Double], _ ys: [Double], categories: [Int], names: [String]) -> String {
        guard let xl = xs.min(), let xh = xs.max(), let yl = ys.min(), let yh = ys.max() else { return frame(xRange: 0...1, yRange: 0...1) { _, _ in "" } }
        func colour(_ c: Int) -> String { c < 0 ? "#cccccc" : Self.palette[c % Self.palette.count] }
        return frame(xRange: xl...max(xh, xl + 1), yRange: yl...max(yh, yl + 1)) { sx, sy in
            var s = ""
            for i in xs.indices {
                s += "<circle cx=\"\(fmt(sx(xs[i])))\" cy=\"\(fmt(sy(ys[i])))\" r=\"1.6\" fill=\"\(colour(categories[i]))\"/>"
            }
            // The legend, top right, one line per category (at most 12).
            for (c, name) in names.prefix(12).enumerated() {
                let y = 30.0 + 12 * Double(c)
                s += "<rect x=\"\(fmt(width - 110))\" y=\"\(fmt(y - 7))\" width=\"8\" height=\"8\" fill=\"\(colour(c))\"/>"
                s += "<text x=\"\(fmt(width - 98))\" y=\"\(fmt(y))\" class=\"a\">\(escape(name))</text>"
            }
            return s
        }
    }
}

func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

func label(_ v: Double) -> String {
    if v == 0 { return "0" }  // not "-0" from a tick just below zero
    if abs(v) >= 10000 { return String(format: "%.0fk", v / 1000) }
    if abs(v) >= 10 || v == v.rounded() { return String(format: "%.0f", v) }
    return String(format: "%.2g", v)
}

/// About five round tick positions between a and b.
func ticks(_ a: Double, _ b: Double) -> [Double] {
    guard b > a else { return [a] }
    let raw = (b - a) / 5, p = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
    var out: [Double] = []
    var t = ceil(a / step) * step
    while t <= b + step * 1e-9 { out.append(t); t += step }
    return out
}
