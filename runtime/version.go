package runtime

// SupportPackageIsVersion1 is referenced by code that flujogen generates
// for version 1 of the contract between generated executors and this
// package. A runtime that drops that contract drops the constant, so stale
// generated code fails go build instead of misbehaving.
const SupportPackageIsVersion1 = true

// SupportPackageIsVersion2 is referenced by generated code of version 2 of
// the contract, which adds RunGate (runs admitted, counted and waited for)
// and the step monitors' TotalMs.
const SupportPackageIsVersion2 = true

// GeneratedCodeVersion is the newest generated-code contract this package
// supports.
const GeneratedCodeVersion = 2
