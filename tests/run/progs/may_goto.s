# may_goto end to end (issue 8): loops len(packet) times under may_goto, then returns XDP_PASS
# for an odd count, XDP_DROP for an even one. Written as text because clang 14 cannot spell
# may_goto: the instruction (BPF_JMP | BPF_JCOND, src BPF_MAY_GOTO, off +2) is given as bytes.
	.section	xdp,"ax",@progbits
	.globl	xdp_may_goto
	.p2align	3
	.type	xdp_may_goto,@function
xdp_may_goto:
	r2 = *(u32 *)(r1 + 0)
	r3 = *(u32 *)(r1 + 4)
	r3 -= r2
	r6 = 0
	.byte 0xe5, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00
	r6 += 1
	if r6 < r3 goto -3
	r0 = r6
	r0 &= 1
	r0 += 1
	exit
.Lfunc_end0:
	.size	xdp_may_goto, .Lfunc_end0-xdp_may_goto

	.section	license,"aw",@progbits
	.globl	_license
_license:
	.asciz	"GPL"
	.size	_license, 4
