package orders

import "context"

// Quote runs the generated executor from the pipelines' own package.
func Quote(ctx context.Context, n int) (int, error) {
	var e *CheckoutExecutor
	e, err := NewCheckoutExecutor()
	if err != nil {
		return 0, err
	}
	return e.Execute(ctx, n)
}

func refundOnce(ctx context.Context, n int) (int, error) {
	var e *refundExecutor
	e, _ = newRefundExecutor()
	return e.Execute(ctx, n)
}

// Runners lists the generated executors.
func Runners() map[string]func() (FlujogenRunner, error) {
	out := map[string]func() (FlujogenRunner, error){}
	for k, v := range FlujogenRunners() {
		out[k] = func() (FlujogenRunner, error) { return v() }
	}
	return out
}
