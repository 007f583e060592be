// Command flujogen validates flujo.json configuration files, prints their
// JSON Schema and writes starter files. Run `flujogen help` for the commands.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
