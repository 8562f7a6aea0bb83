/// Parses the PromQL subset that the rule files use and checks its types. Anything outside the subset is
/// rejected with its position.
public struct Parser {
    private var tokens: [Token]
    private var p = 0

    public static func parse(_ text: String) throws(PromQLError) -> Expr {
        var parser = Parser(tokens: try Lexer.tokens(text))
        let e = try parser.expression(minPrecedence: 0)
        guard case .end = parser.current.kind else { throw PromQLError("unexpected \(parser.describe(parser.current))", at: parser.current.position) }
        if e.type == .matrix || e.type == .string {
            throw PromQLError("expression must evaluate to an instant vector or a scalar, not a \(e.type.rawValue)", at: 0)
        }
        return e
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var current: Token { tokens[p] }
    private mutating func advance() -> Token {
        let t = tokens[p]
        if p < tokens.count - 1 { p += 1 }
        return t
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .number(let v): return "number \(v)"
        case .duration: return "duration"
        case .identifier(let s): return "identifier \"\(s)\""
        case .string(let s): return "string \"\(s)\""
        case .op(let o): return "operator \"\(o)\""
        case .leftParen: return "\"(\""
        case .rightParen: return "\")\""
        case .leftBrace: return "\"{\""
        case .rightBrace: return "\"}\""
        case .leftBracket: return "\"[\""
        case .rightBracket: return "\"]\""
        case .comma: return "\",\""
        case .at: return "\"@\" (the @ modifier is outside the supported subset)"
        case .colon: return "\":\" (subqueries are outside the supported subset)"
        case .end: return "end of input"
        }
    }

    private mutating func expect(_ k: Token.Kind, _ what: String) throws(PromQLError) {
        guard current.kind == k else { throw PromQLError("expected \(what), got \(describe(current))", at: current.position) }
        _ = advance()
    }

    private func keyword(_ t: Token) -> String? {
        if case .identifier(let s) = t.kind { return s.lowercased() }
        return nil
    }

    private func binaryOp(_ t: Token) -> BinaryOp? {
        switch t.kind {
        case .op(let o): return o == "=" || o == "=~" || o == "!~" ? nil : BinaryOp(rawValue: o)
        case .identifier(let s):
            switch s.lowercased() {
            case "and": return .and
            case "or": return .or
            case "unless": return .unless
            case "atan2": return nil
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: Binary expressions (precedence climbing; ^ is right-associative)

    private mutating func expression(minPrecedence: Int) throws(PromQLError) -> Expr {
        var lhs = try unary()
        while let op = binaryOp(current), op.precedence >= minPrecedence {
            let opToken = advance()
            var returnBool = false
            var matching = VectorMatching()
            if keyword(current) == "bool" {
                guard op.isComparison else { throw PromQLError("bool modifier can only be used on comparison operators", at: current.position) }
                _ = advance()
                returnBool = true
            }
            if let k = keyword(current), k == "on" || k == "ignoring" {
                _ = advance()
                matching.on = k == "on"
                matching.explicit = true
                matching.labels = try labelList()
                if let g = keyword(current), g == "group_left" || g == "group_right" {
                    throw PromQLError("\(g) (many-to-one matching) is outside the supported subset", at: current.position)
                }
            }
            if let g = keyword(current), g == "group_left" || g == "group_right" {
                throw PromQLError("\(g) (many-to-one matching) is outside the supported subset", at: current.position)
            }
            let rhs = try expression(minPrecedence: op == .pow ? op.precedence : op.precedence + 1)
            lhs = try binary(op, lhs, rhs, returnBool: returnBool, matching: matching, at: opToken.position)
        }
        return lhs
    }

    private func binary(_ op: BinaryOp, _ l: Expr, _ r: Expr, returnBool: Bool, matching: VectorMatching, at pos: Int) throws(PromQLError) -> Expr {
        for side in [l, r] where side.type != .scalar && side.type != .vector {
            throw PromQLError("binary expression must contain only scalar and instant vector types", at: pos)
        }
        if op.isSet && (l.type != .vector || r.type != .vector) {
            throw PromQLError("set operator \"\(op.rawValue)\" not allowed in binary scalar expression", at: pos)
        }
        if op.isComparison && l.type == .scalar && r.type == .scalar && !returnBool {
            throw PromQLError("comparisons between scalars must use BOOL modifier", at: pos)
        }
        if matching.explicit && (l.type != .vector || r.type != .vector) {
            throw PromQLError("vector matching only allowed between instant vectors", at: pos)
        }
        return .binary(op, l, r, returnBool: returnBool, matching: matching)
    }

    private mutating func unary() throws(PromQLError) -> Expr {
        if case .op(let o) = current.kind, o == "-" || o == "+" {
            let pos = advance().position
            let e = try expression(minPrecedence: BinaryOp.pow.precedence)
            guard e.type == .scalar || e.type == .vector else {
                throw PromQLError("unary expression only allowed on expressions of type scalar or instant vector", at: pos)
            }
            if o == "+" { return e }
            if case .number(let v) = e { return .number(-v) }
            return .negate(e)
        }
        return try postfix(try primary())
    }

    // MARK: Primary expressions

    private mutating func primary() throws(PromQLError) -> Expr {
        let t = current
        switch t.kind {
        case .number(let v):
            _ = advance()
            return .number(v)
        case .string(let s):
            _ = advance()
            return .string(s)
        case .leftParen:
            _ = advance()
            let e = try expression(minPrecedence: 0)
            try expect(.rightParen, "\")\"")
            return .paren(e)
        case .leftBrace:
            return .selector(try selector(name: nil, at: t.position))
        case .identifier(let word):
            _ = advance()
            let lower = word.lowercased()
            if let agg = AggregateOp(rawValue: lower), current.kind == .leftParen || keyword(current) == "by" || keyword(current) == "without" {
                return try aggregation(agg)
            }
            if ["stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group"].contains(lower),
                current.kind == .leftParen || keyword(current) == "by" || keyword(current) == "without"
            {
                throw PromQLError("aggregation \"\(word)\" is outside the supported subset", at: t.position)
            }
            if current.kind == .leftParen {
                guard let f = Function(rawValue: word) else {
                    throw PromQLError("function \"\(word)\" is outside the supported subset", at: t.position)
                }
                return try call(f, at: t.position)
            }
            if ["by", "without", "on", "ignoring", "bool", "offset", "group_left", "group_right", "and", "or", "unless"].contains(lower) {
                throw PromQLError("unexpected keyword \"\(word)\"", at: t.position)
            }
            return .selector(try selector(name: word, at: t.position))
        default:
            throw PromQLError("unexpected \(describe(t))", at: t.position)
        }
    }

    /// `[range]` and `offset d` after a selector.
    private mutating func postfix(_ e: Expr) throws(PromQLError) -> Expr {
        var e = e
        if current.kind == .leftBracket {
            let pos = advance().position
            guard case .selector(let s) = e else { throw PromQLError("ranges only allowed for vector selectors", at: pos) }
            guard case .duration(let d) = current.kind else {
                if current.kind == .colon { throw PromQLError("subqueries are outside the supported subset", at: current.position) }
                throw PromQLError("expected a duration in the range, got \(describe(current))", at: current.position)
            }
            _ = advance()
            if current.kind == .colon { throw PromQLError("subqueries are outside the supported subset", at: current.position) }
            try expect(.rightBracket, "\"]\"")
            guard d > 0 else { throw PromQLError("range must be positive", at: pos) }
            e = .matrix(s, range: d)
        }
        if keyword(current) == "offset" {
            let pos = advance().position
            var sign: Int64 = 1
            if case .op("-") = current.kind {
                _ = advance()
                sign = -1
            }
            guard case .duration(let d) = current.kind else { throw PromQLError("expected a duration after offset", at: current.position) }
            _ = advance()
            switch e {
            case .selector(var s):
                s.offset = sign * d
                e = .selector(s)
            case .matrix(var s, let r):
                s.offset = sign * d
                e = .matrix(s, range: r)
            default: throw PromQLError("offset modifier must be preceded by a selector", at: pos)
            }
        }
        if current.kind == .at { throw PromQLError("the @ modifier is outside the supported subset", at: current.position) }
        return e
    }

    private mutating func selector(name: String?, at pos: Int) throws(PromQLError) -> VectorSelector {
        var matchers: [LabelMatcher] = []
        if let name { matchers.append(try LabelMatcher(Labels.metricName, .equal, name)) }
        if current.kind == .leftBrace {
            _ = advance()
            while current.kind != .rightBrace {
                guard case .identifier(let label) = current.kind else {
                    throw PromQLError("expected a label name, got \(describe(current))", at: current.position)
                }
                _ = advance()
                guard case .op(let o) = current.kind, let kind = LabelMatcher.Kind(rawValue: o) else {
                    throw PromQLError("expected a label matching operator, got \(describe(current))", at: current.position)
                }
                _ = advance()
                guard case .string(let value) = current.kind else {
                    throw PromQLError("expected a quoted label value, got \(describe(current))", at: current.position)
                }
                let vpos = advance().position
                do { matchers.append(try LabelMatcher(label, kind, value)) } catch { throw PromQLError(error.message, at: vpos) }
                if current.kind == .comma { _ = advance() } else if current.kind != .rightBrace {
                    throw PromQLError("expected \",\" or \"}\" in label matchers, got \(describe(current))", at: current.position)
                }
            }
            _ = advance()
        }
        if name != nil, matchers.filter({ $0.name == Labels.metricName }).count > 1 {
            throw PromQLError("metric name must not be set twice", at: pos)
        }
        guard matchers.contains(where: { !$0.matches("") }) else {
            throw PromQLError("vector selector must contain at least one non-empty matcher", at: pos)
        }
        let n = name ?? matchers.first(where: { $0.name == Labels.metricName && $0.kind == .equal })?.value
        return VectorSelector(name: n, matchers: matchers, offset: 0)
    }

    private mutating func labelList() throws(PromQLError) -> [String] {
        try expect(.leftParen, "\"(\"")
        var out: [String] = []
        while current.kind != .rightParen {
            guard case .identifier(let s) = current.kind else { throw PromQLError("expected a label name, got \(describe(current))", at: current.position) }
            _ = advance()
            out.append(s)
            if current.kind == .comma { _ = advance() } else if current.kind != .rightParen {
                throw PromQLError("expected \",\" or \")\" in grouping, got \(describe(current))", at: current.position)
            }
        }
        _ = advance()
        return out
    }

    private mutating func aggregation(_ op: AggregateOp) throws(PromQLError) -> Expr {
        var grouping: [String] = []
        var without = false
        var hadModifier = false
        if let k = keyword(current), k == "by" || k == "without" {
            _ = advance()
            without = k == "without"
            grouping = try labelList()
            hadModifier = true
        }
        let pos = current.position
        try expect(.leftParen, "\"(\"")
        let arg = try expression(minPrecedence: 0)
        if current.kind == .comma { throw PromQLError("aggregation \"\(op.rawValue)\" takes one argument", at: current.position) }
        try expect(.rightParen, "\")\"")
        guard arg.type == .vector else {
            throw PromQLError("expected type instant vector in aggregation expression, got \(arg.type.rawValue)", at: pos)
        }
        if !hadModifier, let k = keyword(current), k == "by" || k == "without" {
            _ = advance()
            without = k == "without"
            grouping = try labelList()
        }
        return .aggregate(op, arg, grouping: grouping, without: without)
    }

    private mutating func call(_ f: Function, at pos: Int) throws(PromQLError) -> Expr {
        try expect(.leftParen, "\"(\"")
        var args: [Expr] = []
        while current.kind != .rightParen {
            args.append(try expression(minPrecedence: 0))
            if current.kind == .comma { _ = advance() } else if current.kind != .rightParen {
                throw PromQLError("expected \",\" or \")\" in function call, got \(describe(current))", at: current.position)
            }
        }
        _ = advance()
        guard args.count == f.arguments.count else {
            throw PromQLError("expected \(f.arguments.count) argument(s) in call to \"\(f.rawValue)\", got \(args.count)", at: pos)
        }
        for (a, want) in zip(args, f.arguments) where a.type != want {
            throw PromQLError("expected type \(want.rawValue) in call to function \"\(f.rawValue)\", got \(a.type.rawValue)", at: pos)
        }
        if f.arguments == [.matrix], case .matrix = args[0] {} else if f.arguments == [.matrix] {
            throw PromQLError("expected a range selector in call to \"\(f.rawValue)\"", at: pos)
        }
        return .call(f, args)
    }
}
