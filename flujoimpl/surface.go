package flujoimpl

// SupportPackageIsVersion3 is referenced by code that flujogen generates
// for version 3 of the contract between generated executors and this
// package: the identifiers of Surface, and the runtime package's. A flujo
// module that drops that contract drops the constant, so stale generated
// code fails go build instead of misbehaving.
const SupportPackageIsVersion3 = true

// Surface lists every identifier of this package that generated code of
// the current version uses. It is the one place that lists them: flujogen's
// tests fail when committed generated code refers to a name not listed
// here. Add or remove a name only together with a new
// SupportPackageIsVersion constant.
var Surface = []string{
	"SupportPackageIsVersion3",
	"AddBreaker",
	"AddCache",
	"AddPool",
	"Closer",
	"CompiledIn",
	"Configure",
	"CoreOptionsOf",
	"CoreSettings",
	"Deps",
	"Engine",
	"Env",
	"ExecOptionsOf",
	"FailedRunError",
	"Fallback",
	"Frame",
	"GoexitResult",
	"HeapMB",
	"IsUsageLimit",
	"JSONKey",
	"Leaf",
	"Methods",
	"MethodsOf",
	"Ms",
	"NewRun",
	"NewServices",
	"Run",
	"RunMetrics",
	"RunState",
	"Services",
	"Step",
	"StepCounters",
	"UnkeyedCache",
	"WithMetrics",
}
