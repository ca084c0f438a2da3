package normalize

import "fmt"

// Event is one xdr_data row: column name -> value. Values are int64, string
// or absent (SQL NULL); booleans are stored as int64 0/1 and JSON as string.
// Any column of Columns() can be set; Insert rejects names that are not
// columns. The zero Event is empty and ready to use.
type Event struct {
	Cols map[string]any
}

// NewEvent returns an empty Event.
func NewEvent() Event { return Event{Cols: make(map[string]any, 96)} }

// Set stores v in column name. Accepted values are string, int64, int, int32,
// uint32, bool (stored as 0/1) and nil (which deletes the column, i.e. NULL).
// It panics on any other type, which is a programming error.
func (e *Event) Set(name string, v any) {
	if e.Cols == nil {
		e.Cols = make(map[string]any, 96)
	}
	switch x := v.(type) {
	case nil:
		delete(e.Cols, name)
	case string:
		e.Cols[name] = x
	case int64:
		e.Cols[name] = x
	case int:
		e.Cols[name] = int64(x)
	case int32:
		e.Cols[name] = int64(x)
	case uint32:
		e.Cols[name] = int64(x)
	case bool:
		if x {
			e.Cols[name] = int64(1)
		} else {
			e.Cols[name] = int64(0)
		}
	default:
		panic(fmt.Sprintf("normalize: Event.Set(%q): unsupported type %T", name, v))
	}
}

// setStr stores s in column name, or leaves the column NULL when s is empty.
func (e *Event) setStr(name, s string) {
	if s != "" {
		e.Set(name, s)
	}
}

// Get returns the value of a column: int64, string, or nil for NULL.
func (e Event) Get(name string) any { return e.Cols[name] }

// Str returns a column's string value, or "" when it is NULL or not a string.
func (e Event) Str(name string) string {
	s, _ := e.Cols[name].(string)
	return s
}

// Int returns a column's integer value and whether it is set.
func (e Event) Int(name string) (int64, bool) {
	v, ok := e.Cols[name].(int64)
	return v, ok
}
