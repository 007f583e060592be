// Package nopipes declares no pipeline, so it has no generated file.
package nopipes

var _ = FlujogenRunners
