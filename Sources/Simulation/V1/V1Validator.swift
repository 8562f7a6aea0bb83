/// The simulator-side checks of spec 8.2 on a raw config object, as `/api/v1/config/validate` runs them.
///
/// The original stopped at the first error (a raised ValueError); this collects every error and every
/// warning, in the original's order and wording. A value of the wrong type is an error naming the field
/// rather than an "Unexpected validation error".
public enum V1Validator {
    public struct Report: Sendable, Equatable {
        public var warnings: [String] = []
        public var errors: [String] = []
        public var valid: Bool { errors.isEmpty }

        public var json: JSONValue {
            ["valid": .bool(valid), "warnings": .strings(warnings), "errors": .strings(errors)]
        }
    }

    static func number(_ v: JSONValue?) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d.isFinite ? d : nil
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    public static func validate(_ config: JSONObject) -> Report {
        var r = Report()
        guard case .object(let token) = config["token"] ?? .null else {
            r.errors.append("Missing 'token' section in config")
            return r
        }
        func typeError(_ field: String, _ v: JSONValue) {
            r.errors.append("\(field) must be a number, got \(v.pythonTypeName)")
        }
        let supplyValue = token["total_supply"]
        let supply = number(supplyValue)
        if let v = supplyValue, supply == nil, !v.isNull { typeError("total_supply", v) }
        if (supply ?? 0) <= 0 { r.warnings.append("total_supply should be positive") }
        let horizonValue = token["horizon_months"]
        let horizon = number(horizonValue)
        if let v = horizonValue, horizon == nil, !v.isNull { typeError("horizon_months", v) }
        if (horizon ?? 0) <= 0 { r.warnings.append("horizon_months should be positive") }
        if case .string(let s) = token["start_date"] ?? .null, case .success = SimDate.parse(s) {
        } else {
            r.warnings.append("start_date must be in YYYY-MM-DD format")
        }
        let modeValue = token["allocation_mode"] ?? "percent"
        let mode = modeValue.stringValue
        if mode != "percent" && mode != "tokens" { r.errors.append("allocation_mode must be 'percent' or 'tokens'") }

        var buckets: [JSONObject] = []
        switch config["buckets"] {
        case .array(let items) where !items.isEmpty:
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item else {
                    r.errors.append("Bucket \(i): must be an object, got \(item.pythonTypeName)")
                    continue
                }
                buckets.append(o)
            }
        case .some(let v) where !(v.arrayValue?.isEmpty ?? false) && !v.isNull:
            r.errors.append("buckets must be a list, got \(v.pythonTypeName)")
        default:
            r.warnings.append("At least one bucket should be defined")
        }
        var sum = 0.0
        for (i, b) in buckets.enumerated() {
            for f in ["bucket", "allocation", "tge_unlock_pct", "cliff_months", "vesting_months"] where b[f] == nil {
                r.warnings.append("Bucket \(i): Missing required field '\(f)'")
            }
            let name: String
            switch b["bucket"] {
            case .string(let s): name = s
            case .some(let v) where !v.isNull: name = PythonFormat.number(v)
            default: name = ""
            }
            func field(_ f: String) -> Double? {
                guard let v = b[f] else { return 0 }
                if let n = number(v) { return n }
                r.errors.append("Bucket '\(name)': \(f) must be a number, got \(v.pythonTypeName)")
                return nil
            }
            if let a = field("allocation") {
                if a < 0 { r.warnings.append("Bucket '\(name)': allocation cannot be negative") }
                sum += a
            }
            if let t = field("tge_unlock_pct"), t < 0 || t > 100 {
                r.warnings.append("Bucket '\(name)': tge_unlock_pct must be between 0 and 100")
            }
            if let c = field("cliff_months"), c < 0 { r.warnings.append("Bucket '\(name)': cliff_months cannot be negative") }
            if let v = field("vesting_months"), v < 0 {
                r.warnings.append("Bucket '\(name)': vesting_months cannot be negative")
            }
        }
        if !buckets.isEmpty {
            if mode == "tokens" {
                let s = supply ?? 1_000_000
                if sum > s {
                    r.errors.append("Allocation sum (\(PythonFormat.grouped(sum))) exceeds total supply (\(PythonFormat.grouped(s)))")
                } else if sum < s {
                    let pct = s > 0 ? (s - sum) / s * 100 : 0
                    r.warnings.append("\(PythonFormat.grouped(s - sum)) tokens (\(PythonFormat.fixed(pct, 2))%) remain unallocated")
                }
            } else if mode == "percent", abs(sum - 100) > 0.01 {
                if sum > 100 {
                    r.errors.append("Allocation sum (\(PythonFormat.float(sum))%) exceeds 100%")
                } else {
                    r.warnings.append("Allocation sum is \(PythonFormat.fixed(sum, 2))%, leaving \(PythonFormat.fixed(100 - sum, 2))% unallocated")
                }
            }
        }
        if case .object(let a) = config["assumptions"] ?? .null {
            if let level = a["sell_pressure_level"], !["low", "medium", "high"].contains(level.stringValue ?? "") {
                r.errors.append("sell_pressure_level must be one of: ['low', 'medium', 'high']")
            }
            if let v = a["avg_daily_volume_tokens"], !v.isNull {
                if let n = number(v) {
                    if n < 0 { r.errors.append("avg_daily_volume_tokens cannot be negative") }
                } else {
                    typeError("avg_daily_volume_tokens", v)
                }
            }
        }
        if case .object(let behaviors) = config["behaviors"] ?? .null {
            validateBehaviors(behaviors, bucketNames: Set(buckets.compactMap { $0["bucket"]?.stringValue }), into: &r)
        }
        return r
    }

    static func enabled(_ o: JSONObject) -> Bool {
        switch o["enabled"] {
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .string(let s): return ["1", "true", "yes", "on", "t", "y"].contains(s.lowercased())
        default: return false
        }
    }

    static func validateBehaviors(_ b: JSONObject, bucketNames: Set<String>, into r: inout Report) {
        if case .object(let cs) = b["cliff_shock"] ?? .null, enabled(cs) {
            if let m = number(cs["multiplier"] ?? 3.0), m < 1 { r.errors.append("cliff_shock multiplier must be >= 1.0") }
            for name in cs["buckets"]?.arrayValue ?? [] {
                let s = name.stringValue ?? PythonFormat.number(name)
                if !bucketNames.contains(s) { r.warnings.append("Cliff shock bucket '\(s)' not found in bucket list") }
            }
        }
        if case .object(let pt) = b["price_trigger"] ?? .null, enabled(pt) {
            let source = pt["source"]?.stringValue ?? "flat"
            if !["flat", "scenario", "csv"].contains(source) {
                r.errors.append("price_trigger source must be 'flat', 'scenario', or 'csv'")
            } else if source == "scenario", !["uptrend", "downtrend", "volatile"].contains(pt["scenario"]?.stringValue ?? "") {
                r.errors.append("price_trigger scenario must be 'uptrend', 'downtrend', or 'volatile'")
            } else if source == "csv", (pt["uploaded_price_series"]?.arrayValue ?? []).isEmpty {
                r.errors.append("price_trigger source is 'csv' but no uploaded_price_series provided")
            }
        }
        if case .object(let rl) = b["relock"] ?? .null, enabled(rl) {
            if let p = number(rl["relock_pct"] ?? 0.3), p < 0 || p > 1 { r.errors.append("relock_pct must be between 0 and 1.0") }
            if let d = number(rl["lock_duration_months"] ?? 6), d < 0 { r.errors.append("lock_duration_months cannot be negative") }
        }
    }
}
