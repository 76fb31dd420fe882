engine/ebpf_axil_slave.sv
engine/ebpf_engine.sv
