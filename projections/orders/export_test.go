package orders

// ListSQL exposes the statement List runs for q, for the planner checks.
func ListSQL(q ListQuery) (string, []any, error) {
	sql, args, _, _, err := listSQL(q)
	return sql, args, err
}
