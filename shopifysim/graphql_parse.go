package shopifysim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A GraphQL parser for executable documents: operations (query, mutation) with variables,
// fields with aliases and arguments, selection sets, fragments and inline fragments, every
// literal kind (block strings included). Directives are parsed and ignored.

type gqlDoc struct {
	ops   []*gqlOp
	frags map[string]*gqlFragment
}

type gqlOp struct {
	kind string // query, mutation, subscription
	name string
	vars []gqlVarDef
	sel  []gqlSelection
}

type gqlVarDef struct {
	name string
	def  gqlValue
}

type gqlFragment struct {
	name string
	on   string
	sel  []gqlSelection
}

// gqlSelection is a field, an inline fragment (on/sel) or a fragment spread (spread).
type gqlSelection struct {
	field  *gqlField
	on     string
	sel    []gqlSelection
	spread string
	inline bool
}

type gqlField struct {
	alias string
	name  string
	args  []gqlArg
	sel   []gqlSelection
	line  int
	col   int
}

func (f *gqlField) key() string {
	if f.alias != "" {
		return f.alias
	}
	return f.name
}

type gqlArg struct {
	name  string
	value gqlValue
}

type gqlValueKind int

const (
	vVar gqlValueKind = iota
	vInt
	vFloat
	vString
	vBool
	vNull
	vEnum
	vList
	vObject
)

type gqlValue struct {
	kind   gqlValueKind
	raw    string // var name, number text, string value, enum name
	b      bool
	list   []gqlValue
	fields []gqlArg
}

// gqlSyntaxError is a parse failure at a position.
type gqlSyntaxError struct {
	msg       string
	line, col int
}

func (e *gqlSyntaxError) Error() string { return e.msg }

type tokKind int

const (
	tEOF tokKind = iota
	tPunct
	tName
	tInt
	tFloat
	tString
	tBlockString
)

type token struct {
	kind      tokKind
	val       string
	line, col int
}

type lexer struct {
	src       string
	pos       int
	line, col int
}

func (l *lexer) errf(format string, args ...any) error {
	return &gqlSyntaxError{msg: fmt.Sprintf(format, args...), line: l.line, col: l.col}
}

func (l *lexer) advance(n int) {
	for range n {
		if l.pos < len(l.src) && l.src[l.pos] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.pos++
	}
}

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == 0xEF && strings.HasPrefix(l.src[l.pos:], "\uFEFF") {
			if c == 0xEF {
				l.pos += 2
			}
			l.advance(1)
			continue
		}
		if c == '#' {
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.advance(1)
			}
			continue
		}
		break
	}
	t := token{line: l.line, col: l.col}
	if l.pos >= len(l.src) {
		return t, nil
	}
	c := l.src[l.pos]
	switch {
	case strings.HasPrefix(l.src[l.pos:], "..."):
		t.kind, t.val = tPunct, "..."
		l.advance(3)
	case strings.ContainsRune("!$&()*:=@[]{}|", rune(c)):
		t.kind, t.val = tPunct, string(c)
		l.advance(1)
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		start := l.pos
		for l.pos < len(l.src) {
			c := l.src[l.pos]
			if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
				l.advance(1)
				continue
			}
			break
		}
		t.kind, t.val = tName, l.src[start:l.pos]
	case c == '-' || c >= '0' && c <= '9':
		start := l.pos
		t.kind = tInt
		if c == '-' {
			l.advance(1)
		}
		digits := func() int {
			n := 0
			for l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '9' {
				l.advance(1)
				n++
			}
			return n
		}
		if digits() == 0 {
			return t, l.errf("Parse error on \"-\" (error) at [%d, %d]", t.line, t.col)
		}
		if l.pos < len(l.src) && l.src[l.pos] == '.' {
			t.kind = tFloat
			l.advance(1)
			if digits() == 0 {
				return t, l.errf("Parse error on bad number at [%d, %d]", t.line, t.col)
			}
		}
		if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
			t.kind = tFloat
			l.advance(1)
			if l.pos < len(l.src) && (l.src[l.pos] == '+' || l.src[l.pos] == '-') {
				l.advance(1)
			}
			if digits() == 0 {
				return t, l.errf("Parse error on bad number at [%d, %d]", t.line, t.col)
			}
		}
		t.val = l.src[start:l.pos]
	case strings.HasPrefix(l.src[l.pos:], `"""`):
		l.advance(3)
		var b strings.Builder
		for {
			if l.pos >= len(l.src) {
				return t, l.errf("Parse error on unterminated string at [%d, %d]", t.line, t.col)
			}
			if strings.HasPrefix(l.src[l.pos:], `\"""`) {
				b.WriteString(`"""`)
				l.advance(4)
				continue
			}
			if strings.HasPrefix(l.src[l.pos:], `"""`) {
				l.advance(3)
				break
			}
			b.WriteByte(l.src[l.pos])
			l.advance(1)
		}
		t.kind, t.val = tBlockString, blockStringValue(b.String())
	case c == '"':
		l.advance(1)
		var b strings.Builder
		for {
			if l.pos >= len(l.src) || l.src[l.pos] == '\n' {
				return t, l.errf("Parse error on unterminated string at [%d, %d]", t.line, t.col)
			}
			c := l.src[l.pos]
			if c == '"' {
				l.advance(1)
				break
			}
			if c == '\\' {
				if l.pos+1 >= len(l.src) {
					return t, l.errf("Parse error on bad escape at [%d, %d]", l.line, l.col)
				}
				e := l.src[l.pos+1]
				switch e {
				case '"', '\\', '/':
					b.WriteByte(e)
				case 'b':
					b.WriteByte('\b')
				case 'f':
					b.WriteByte('\f')
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case 'u':
					if l.pos+6 > len(l.src) {
						return t, l.errf("Parse error on bad unicode escape at [%d, %d]", l.line, l.col)
					}
					n, err := strconv.ParseUint(l.src[l.pos+2:l.pos+6], 16, 32)
					if err != nil {
						return t, l.errf("Parse error on bad unicode escape at [%d, %d]", l.line, l.col)
					}
					b.WriteRune(rune(n))
					l.advance(4)
				default:
					return t, l.errf("Parse error on bad escape at [%d, %d]", l.line, l.col)
				}
				l.advance(2)
				continue
			}
			_, size := utf8.DecodeRuneInString(l.src[l.pos:])
			b.WriteString(l.src[l.pos : l.pos+size])
			l.pos += size
			l.col++
		}
		t.kind, t.val = tString, b.String()
	default:
		return t, l.errf("Parse error on %q (error) at [%d, %d]", string(c), t.line, t.col)
	}
	return t, nil
}

// blockStringValue removes a block string's common indentation and blank first and last lines.
func blockStringValue(raw string) string {
	lines := strings.Split(strings.ReplaceAll(raw, "\r\n", "\n"), "\n")
	common := -1
	for i, ln := range lines {
		if i == 0 {
			continue
		}
		trimmed := strings.TrimLeft(ln, " \t")
		if trimmed == "" {
			continue
		}
		if ind := len(ln) - len(trimmed); common < 0 || ind < common {
			common = ind
		}
	}
	if common > 0 {
		for i := 1; i < len(lines); i++ {
			if len(lines[i]) >= common {
				lines[i] = lines[i][common:]
			} else {
				lines[i] = strings.TrimLeft(lines[i], " \t")
			}
		}
	}
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

type parser struct {
	lex   *lexer
	tok   token
	depth int
}

// maxDepth bounds nesting of selections and values, so no document can exhaust the stack.
const maxDepth = 64

func parseGraphQL(src string) (doc *gqlDoc, err error) {
	p := &parser{lex: &lexer{src: src, line: 1, col: 1}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	doc = &gqlDoc{frags: map[string]*gqlFragment{}}
	for p.tok.kind != tEOF {
		switch {
		case p.isPunct("{"):
			sel, err := p.selectionSet()
			if err != nil {
				return nil, err
			}
			doc.ops = append(doc.ops, &gqlOp{kind: "query", sel: sel})
		case p.tok.kind == tName && (p.tok.val == "query" || p.tok.val == "mutation" || p.tok.val == "subscription"):
			op, err := p.operation()
			if err != nil {
				return nil, err
			}
			doc.ops = append(doc.ops, op)
		case p.tok.kind == tName && p.tok.val == "fragment":
			f, err := p.fragment()
			if err != nil {
				return nil, err
			}
			doc.frags[f.name] = f
		default:
			return nil, p.unexpected()
		}
	}
	if len(doc.ops) == 0 {
		return nil, &gqlSyntaxError{msg: "No operations in query document"}
	}
	if name := fragmentCycle(doc); name != "" {
		return nil, &gqlSyntaxError{msg: fmt.Sprintf("Fragment %s contains an infinite loop", name)}
	}
	return doc, nil
}

// fragmentCycle returns a fragment that spreads itself, directly or not, or "". Each fragment
// is visited once (depth-first, three colours), so fragments spreading each other many times
// over cost no more than their size.
func fragmentCycle(doc *gqlDoc) string {
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	var visit func(name string) string
	var walk func(sel []gqlSelection) string
	walk = func(sel []gqlSelection) string {
		for _, s := range sel {
			var found string
			switch {
			case s.spread != "":
				found = visit(s.spread)
			case s.field != nil:
				found = walk(s.field.sel)
			default:
				found = walk(s.sel)
			}
			if found != "" {
				return found
			}
		}
		return ""
	}
	visit = func(name string) string {
		f := doc.frags[name]
		if f == nil {
			return ""
		}
		switch state[name] {
		case onPath:
			return name
		case done:
			return ""
		}
		state[name] = onPath
		if found := walk(f.sel); found != "" {
			return found
		}
		state[name] = done
		return ""
	}
	names := make([]string, 0, len(doc.frags))
	for n := range doc.frags {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if found := visit(n); found != "" {
			return found
		}
	}
	return ""
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) isPunct(s string) bool { return p.tok.kind == tPunct && p.tok.val == s }

func (p *parser) unexpected() error {
	what := p.tok.val
	if p.tok.kind == tEOF {
		return &gqlSyntaxError{msg: "Unexpected end of document", line: p.tok.line, col: p.tok.col}
	}
	return &gqlSyntaxError{msg: fmt.Sprintf("Parse error on %q (%s) at [%d, %d]", what, tokName(p.tok), p.tok.line, p.tok.col),
		line: p.tok.line, col: p.tok.col}
}

func tokName(t token) string {
	switch t.kind {
	case tName:
		return "IDENTIFIER"
	case tInt:
		return "INT"
	case tFloat:
		return "FLOAT"
	case tString, tBlockString:
		return "STRING"
	case tPunct:
		switch t.val {
		case "{":
			return "LCURLY"
		case "}":
			return "RCURLY"
		case "(":
			return "LPAREN"
		case ")":
			return "RPAREN"
		case ":":
			return "COLON"
		}
	}
	return "PUNCT"
}

func (p *parser) expectPunct(s string) error {
	if !p.isPunct(s) {
		return p.unexpected()
	}
	return p.advance()
}

func (p *parser) name() (string, error) {
	if p.tok.kind != tName {
		return "", p.unexpected()
	}
	n := p.tok.val
	return n, p.advance()
}

func (p *parser) operation() (*gqlOp, error) {
	op := &gqlOp{kind: p.tok.val}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tName {
		op.name = p.tok.val
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.isPunct("(") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		for !p.isPunct(")") {
			if err := p.expectPunct("$"); err != nil {
				return nil, err
			}
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.expectPunct(":"); err != nil {
				return nil, err
			}
			if err := p.skipType(); err != nil {
				return nil, err
			}
			vd := gqlVarDef{name: n, def: gqlValue{kind: vNull}}
			if p.isPunct("=") {
				if err := p.advance(); err != nil {
					return nil, err
				}
				if vd.def, err = p.value(true); err != nil {
					return nil, err
				}
			}
			op.vars = append(op.vars, vd)
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if err := p.directives(); err != nil {
		return nil, err
	}
	sel, err := p.selectionSet()
	op.sel = sel
	return op, err
}

func (p *parser) skipType() error {
	if p.isPunct("[") {
		if err := p.advance(); err != nil {
			return err
		}
		if err := p.skipType(); err != nil {
			return err
		}
		if err := p.expectPunct("]"); err != nil {
			return err
		}
	} else if _, err := p.name(); err != nil {
		return err
	}
	if p.isPunct("!") {
		return p.advance()
	}
	return nil
}

func (p *parser) fragment() (*gqlFragment, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tName || p.tok.val != "on" {
		return nil, p.unexpected()
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	on, err := p.name()
	if err != nil {
		return nil, err
	}
	if err := p.directives(); err != nil {
		return nil, err
	}
	sel, err := p.selectionSet()
	return &gqlFragment{name: n, on: on, sel: sel}, err
}

func (p *parser) directives() error {
	for p.isPunct("@") {
		if err := p.advance(); err != nil {
			return err
		}
		if _, err := p.name(); err != nil {
			return err
		}
		if p.isPunct("(") {
			if _, err := p.arguments(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) selectionSet() ([]gqlSelection, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, &gqlSyntaxError{msg: "Query is nested too deeply", line: p.tok.line, col: p.tok.col}
	}
	defer func() { p.depth-- }()
	if err := p.expectPunct("{"); err != nil {
		return nil, err
	}
	var out []gqlSelection
	for !p.isPunct("}") {
		if p.tok.kind == tEOF {
			return nil, p.unexpected()
		}
		if p.isPunct("...") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind == tName && p.tok.val != "on" {
				n, _ := p.name()
				if err := p.directives(); err != nil {
					return nil, err
				}
				out = append(out, gqlSelection{spread: n})
				continue
			}
			s := gqlSelection{inline: true}
			if p.tok.kind == tName && p.tok.val == "on" {
				if err := p.advance(); err != nil {
					return nil, err
				}
				on, err := p.name()
				if err != nil {
					return nil, err
				}
				s.on = on
			}
			if err := p.directives(); err != nil {
				return nil, err
			}
			sel, err := p.selectionSet()
			if err != nil {
				return nil, err
			}
			s.sel = sel
			out = append(out, s)
			continue
		}
		f := &gqlField{line: p.tok.line, col: p.tok.col}
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		if p.isPunct(":") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			f.alias = n
			if n, err = p.name(); err != nil {
				return nil, err
			}
		}
		f.name = n
		if p.isPunct("(") {
			if f.args, err = p.arguments(); err != nil {
				return nil, err
			}
		}
		if err := p.directives(); err != nil {
			return nil, err
		}
		if p.isPunct("{") {
			if f.sel, err = p.selectionSet(); err != nil {
				return nil, err
			}
		}
		out = append(out, gqlSelection{field: f})
	}
	if len(out) == 0 {
		return nil, p.unexpected()
	}
	return out, p.advance()
}

func (p *parser) arguments() ([]gqlArg, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	var out []gqlArg
	for !p.isPunct(")") {
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(":"); err != nil {
			return nil, err
		}
		v, err := p.value(false)
		if err != nil {
			return nil, err
		}
		out = append(out, gqlArg{name: n, value: v})
	}
	return out, p.advance()
}

func (p *parser) value(constant bool) (gqlValue, error) {
	if p.depth++; p.depth > maxDepth {
		return gqlValue{}, &gqlSyntaxError{msg: "Value is nested too deeply", line: p.tok.line, col: p.tok.col}
	}
	defer func() { p.depth-- }()
	t := p.tok
	switch {
	case t.kind == tPunct && t.val == "$" && !constant:
		if err := p.advance(); err != nil {
			return gqlValue{}, err
		}
		n, err := p.name()
		return gqlValue{kind: vVar, raw: n}, err
	case t.kind == tInt:
		return gqlValue{kind: vInt, raw: t.val}, p.advance()
	case t.kind == tFloat:
		return gqlValue{kind: vFloat, raw: t.val}, p.advance()
	case t.kind == tString || t.kind == tBlockString:
		return gqlValue{kind: vString, raw: t.val}, p.advance()
	case t.kind == tName:
		switch t.val {
		case "true", "false":
			return gqlValue{kind: vBool, b: t.val == "true"}, p.advance()
		case "null":
			return gqlValue{kind: vNull}, p.advance()
		}
		return gqlValue{kind: vEnum, raw: t.val}, p.advance()
	case t.kind == tPunct && t.val == "[":
		if err := p.advance(); err != nil {
			return gqlValue{}, err
		}
		v := gqlValue{kind: vList}
		for !p.isPunct("]") {
			item, err := p.value(constant)
			if err != nil {
				return gqlValue{}, err
			}
			v.list = append(v.list, item)
		}
		return v, p.advance()
	case t.kind == tPunct && t.val == "{":
		if err := p.advance(); err != nil {
			return gqlValue{}, err
		}
		v := gqlValue{kind: vObject}
		for !p.isPunct("}") {
			n, err := p.name()
			if err != nil {
				return gqlValue{}, err
			}
			if err := p.expectPunct(":"); err != nil {
				return gqlValue{}, err
			}
			item, err := p.value(constant)
			if err != nil {
				return gqlValue{}, err
			}
			v.fields = append(v.fields, gqlArg{name: n, value: item})
		}
		return v, p.advance()
	}
	return gqlValue{}, p.unexpected()
}
