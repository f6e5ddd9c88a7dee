// Package yamlguard bounds the work a YAML document can cause before and
// after it is parsed, so that a hostile or broken file is refused quickly
// with an error naming what is wrong instead of costing seconds of CPU and
// gigabytes of memory.
//
// Scan reads the raw text, without parsing it, and refuses documents that
// are too large, nest collections too deeply or use too many anchors and
// aliases. It is deliberately independent of any YAML parser: a parser
// that recurses or backtracks on deep nesting never sees such a document.
// Its depth is an estimate that may overcount odd but legal layouts (a
// sequence written at its key's indentation counts once, not twice), which
// is why the limits are several times what a real file needs.
//
// Expansion runs on the parsed syntax tree and counts the values the
// document holds once every alias is replaced by its anchor's content: a
// small file can name one large list a thousand times, and every consumer
// that follows aliases pays for each copy.
package yamlguard

import (
	"fmt"
)

// Limits bound one document. A zero field means no limit on that count.
type Limits struct {
	// MaxBytes is the largest document accepted.
	MaxBytes int
	// MaxDepth bounds how deeply block and flow collections nest.
	MaxDepth int
	// MaxAliases bounds alias uses (*name) in the document.
	MaxAliases int
	// MaxExpanded bounds the values the document holds once aliases are
	// followed (see Expansion).
	MaxExpanded int
}

// Error is a limit exceeded at a place in the document.
type Error struct {
	Line, Column int
	Msg          string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg) }

// block is an open block collection: the column of its entries, and
// whether it is a list ("- " entries) rather than a mapping.
type block struct {
	col int
	seq bool
}

// scanner holds the state of one pass over the text. Flow collections and
// block scalars may span lines, so their state carries over; block
// structure is read from each line's indentation.
type scanner struct {
	lim        Limits
	line       int
	stack      []block // the open block collections, outermost first
	flow       int     // open flow collections ([ and {)
	quote      byte    // the open quoted scalar's quote, 0 outside one (never across lines)
	scalarOver int     // >= 0: inside a block scalar whose parent line had this indentation
	aliases    int
}

// Scan checks the document text against lim without parsing it.
func Scan(data []byte, lim Limits) error {
	if lim.MaxBytes > 0 && len(data) > lim.MaxBytes {
		return &Error{Line: 1, Column: 1, Msg: fmt.Sprintf("the document is %d bytes, more than the %d allowed", len(data), lim.MaxBytes)}
	}
	s := &scanner{lim: lim, scalarOver: -1}
	start := 0
	for i := 0; i <= len(data); i++ {
		if i < len(data) && data[i] != '\n' {
			continue
		}
		s.line++
		if err := s.scanLine(data[start:i]); err != nil {
			return err
		}
		start = i + 1
	}
	return nil
}

// scanLine reads one line: its indentation opens or closes block
// collections, then its content is read character by character.
func (s *scanner) scanLine(line []byte) error {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	indent := 0
	for indent < len(line) && (line[indent] == ' ' || line[indent] == '\t') {
		indent++
	}
	blank := indent == len(line)
	if s.scalarOver >= 0 {
		if blank || indent > s.scalarOver {
			return nil // block scalar content: text, not structure
		}
		s.scalarOver = -1
	}
	// A quoted scalar is taken to end with its line. YAML lets one span
	// lines, but a scan that wrongly believed itself inside a quote would
	// skip real structure; ending it early can only overcount.
	s.quote = 0
	if s.flow > 0 {
		// Indentation means nothing inside brackets, but counting it
		// anyway keeps block structure from hiding behind a bracket the
		// scan opened by mistake (in text it misread as structure).
		if blank {
			return nil
		}
		col, entry, err := s.openBlocks(line, indent)
		if err != nil {
			return err
		}
		return s.scanContent(line, col, scalarOwner(line, col, entry), true)
	}
	if blank || line[indent] == '#' || line[indent] == '%' {
		return nil
	}
	if indent == 0 && (hasPrefixWord(line, "---") || hasPrefixWord(line, "...")) {
		s.stack = s.stack[:0] // a new document
		return s.scanContent(line, 3, 0, true)
	}
	col, entry, err := s.openBlocks(line, indent)
	if err != nil {
		return err
	}
	return s.scanContent(line, col, scalarOwner(line, col, entry), true)
}

// scalarOwner is the indentation a block scalar starting on this line must
// be indented past: the list entry's when the scalar is the entry itself
// ("- |"), else where the content starts ("key: |"). The latter may be
// more than YAML requires, which can read some text as structure
// (overcounting) but never skips structure.
func scalarOwner(line []byte, col, entry int) int {
	if entry >= 0 && col < len(line) && (line[col] == '|' || line[col] == '>') {
		return entry
	}
	return col
}

// openBlocks closes the block collections this line's indentation ends,
// opens the one it is in, and one more for each compact "- " or "? "
// entry that starts it ("- - x" is a list in a list). A list may sit at
// its key's own indentation ("key:" then "- item" below it), so a list
// entry does not close a mapping at its column. It returns where the
// line's content starts and the column of its last list entry (-1 when
// it has none).
func (s *scanner) openBlocks(line []byte, indent int) (col, entry int, err error) {
	startsEntry := isEntry(line, indent)
	for len(s.stack) > 0 {
		top := s.stack[len(s.stack)-1]
		if top.col < indent || (top.col == indent && startsEntry && !top.seq) {
			break
		}
		s.stack = s.stack[:len(s.stack)-1]
	}
	col, entry = indent, -1
	for isEntry(line, col) {
		if err := s.push(col, true); err != nil {
			return 0, 0, err
		}
		entry = col
		col++
		for col < len(line) && isSpace(line[col]) {
			col++
		}
	}
	if col < len(line) {
		if err := s.push(col, false); err != nil {
			return 0, 0, err
		}
	}
	return col, entry, nil
}

// isEntry reports whether a list entry ("- ") or complex key ("? ")
// starts at col.
func isEntry(line []byte, col int) bool {
	return col < len(line) && (line[col] == '-' || line[col] == '?') && (col+1 == len(line) || isSpace(line[col+1]))
}

func (s *scanner) push(col int, seq bool) error {
	s.stack = append(s.stack, block{col: col, seq: seq})
	return s.checkDepth(col)
}

func (s *scanner) checkDepth(col int) error {
	if d := len(s.stack) + s.flow; s.lim.MaxDepth > 0 && d > s.lim.MaxDepth {
		return &Error{Line: s.line, Column: col + 1,
			Msg: fmt.Sprintf("lists and mappings nest more than %d levels deep", s.lim.MaxDepth)}
	}
	return nil
}

// scanContent reads a line's content from col: quoted scalars, comments,
// flow brackets, anchors, aliases and block scalar headers, whose text is
// the following lines indented past indent. tokenStart
// says whether col begins a value, where a quote or bracket is syntax
// rather than part of a plain scalar such as "it's" or "a[1]".
func (s *scanner) scanContent(line []byte, col, indent int, tokenStart bool) error {
	for i := col; i < len(line); i++ {
		c := line[i]
		if s.quote != 0 {
			i = s.inQuote(line, i)
			tokenStart = false // whatever follows a closing quote is not a new value
			continue
		}
		switch {
		case isSpace(c):
			continue
		case c == '#' && (i == 0 || isSpace(line[i-1])):
			return nil // a comment runs to the end of the line
		case (c == '"' || c == '\'') && tokenStart:
			s.quote = c
			continue
		case (c == '[' || c == '{') && (tokenStart || s.flow > 0):
			s.flow++
			if err := s.checkDepth(i); err != nil {
				return err
			}
			tokenStart = true
			continue
		case (c == ']' || c == '}') && s.flow > 0:
			s.flow--
		case c == ',' && s.flow > 0:
			tokenStart = true
			continue
		case c == ':' && (i+1 == len(line) || isSpace(line[i+1]) || (s.flow > 0 && isFlowIndicator(line[i+1]))):
			tokenStart = true // a mapping value starts
			continue
		case (c == '-' || c == '?') && tokenStart && (i+1 == len(line) || isSpace(line[i+1])):
			continue // an entry indicator: the value starts after it
		case (c == '|' || c == '>') && tokenStart && s.flow == 0:
			s.scalarOver = indent
			return nil // the header's indicators and comment need no reading
		case (c == '&' || c == '*' || c == '!') && tokenStart:
			if c == '*' {
				if s.aliases++; s.lim.MaxAliases > 0 && s.aliases > s.lim.MaxAliases {
					return &Error{Line: s.line, Column: i + 1,
						Msg: fmt.Sprintf("more than %d aliases (*name)", s.lim.MaxAliases)}
				}
			}
			i = skipName(line, i+1) - 1
			continue // what follows an anchor or tag still starts the value
		}
		tokenStart = false
	}
	return nil
}

// inQuote reads one character inside a quoted scalar and returns the index
// of the last character consumed.
func (s *scanner) inQuote(line []byte, i int) int {
	c := line[i]
	switch {
	case s.quote == '"' && c == '\\':
		return i + 1 // the escaped character
	case c == s.quote && s.quote == '\'' && i+1 < len(line) && line[i+1] == '\'':
		return i + 1 // '' is an escaped quote
	case c == s.quote:
		s.quote = 0
	}
	return i
}

// skipName returns the index after an anchor, alias or tag name.
func skipName(line []byte, i int) int {
	for i < len(line) && !isSpace(line[i]) && (line[i] != ',' && line[i] != ']' && line[i] != '}' && line[i] != '[' && line[i] != '{') {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func isFlowIndicator(c byte) bool { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' }

// hasPrefixWord reports whether line starts with w followed by the end of
// the line or whitespace (a document marker, not a scalar like "---x").
func hasPrefixWord(line []byte, w string) bool {
	return len(line) >= len(w) && string(line[:len(w)]) == w && (len(line) == len(w) || isSpace(line[len(w)]))
}
