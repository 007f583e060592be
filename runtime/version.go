package runtime

// SupportPackageIsVersion1 is referenced by code that flujogen generates
// for version 1 of the contract between generated executors and this
// package. A runtime that drops that contract drops the constant, so stale
// generated code fails go build instead of misbehaving.
const SupportPackageIsVersion1 = true

// GeneratedCodeVersion is the newest generated-code contract this package
// supports.
const GeneratedCodeVersion = 1
