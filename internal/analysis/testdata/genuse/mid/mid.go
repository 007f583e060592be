// Package mid stands between app and orders; only its declarations are
// checked.
package mid

import "example.com/flujotest/genuse/orders"

// Holder holds a generated executor of another package.
type Holder struct {
	E *orders.CheckoutExecutor
}
