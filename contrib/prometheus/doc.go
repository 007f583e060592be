// Package prometheus exports the statistics of a flujo executor, an
// *flujo.ExecutorCore or a generated one, as Prometheus metrics. It lives
// in a module of its own so that the main flujo module never depends on
// the Prometheus client.
package prometheus
