package auth

import "strings"

// RoleMapping grants roles from configuration. Each entry is one of
//   - a group name, matched against the token's groups claim ("storeline-admins"),
//   - an email domain, starting with "@" ("@example.com"),
//   - a full email address ("ops@example.com").
//
// Emails and domains compare case-insensitively, group names exactly (identity providers treat
// them as opaque ids). The highest matching role wins; no match is RoleNone.
type RoleMapping struct {
	Admins  []string
	Editors []string
	Viewers []string
}

// RoleFor returns the highest role any entry grants to a principal with this email and groups.
func (m RoleMapping) RoleFor(email string, groups []string) Role {
	for _, level := range []struct {
		role    Role
		entries []string
	}{{RoleAdmin, m.Admins}, {RoleEditor, m.Editors}, {RoleViewer, m.Viewers}} {
		for _, e := range level.entries {
			if matches(e, email, groups) {
				return level.role
			}
		}
	}
	return RoleNone
}

func matches(entry, email string, groups []string) bool {
	entry = strings.TrimSpace(entry)
	if entry == "" {
		return false
	}
	email = strings.ToLower(strings.TrimSpace(email))
	switch {
	case strings.HasPrefix(entry, "@"):
		// The "@" keeps "@example.com" from matching "x@evilexample.com".
		return email != "" && strings.HasSuffix(email, strings.ToLower(entry))
	case strings.Contains(entry, "@"):
		return email != "" && email == strings.ToLower(entry)
	default:
		for _, g := range groups {
			if g == entry {
				return true
			}
		}
		return false
	}
}
