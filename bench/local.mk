# bench/ — benchmarks (built with `make`, run by hand; never timed tests).
include bench/store.mk
include bench/sim.mk
include bench/net.mk
include bench/fs.mk
include bench/verify.mk
