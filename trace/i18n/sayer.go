package i18n

// A Sayer says itself in any language: an error whose sentence (and the
// hint of what to try, where there is one) is in the catalogues. Each
// package's error types implement it beside their definition; the command
// finds it with errors.As and prints Say in the user's language, while
// Error stays the English text for logs and tests.
type Sayer interface {
	Say(l Lang) string
}
