/*
 * Trampolines between the host (System V ABI) and compiled wasm code (the
 * convention in vmctx.h). See activation.h for their contracts.
 */
#include "signals/activation.h"

#define VMCTX_MEMORY0_BASE 8

	.text

/* int wj__enter_wasm(void *vmctx %rdi, const void *code %rsi,
 *                    uint64_t *slots %rdx, size_t nslots %rcx,
 *                    vm_activation *act %r8) */
	.globl	wj__enter_wasm
	.hidden	wj__enter_wasm
	.type	wj__enter_wasm, @function
	.p2align 4
wj__enter_wasm:
	.cfi_startproc
	push	%rbp			/* push rbp */
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	mov	%rsp, %rbp		/* mov rbp, rsp */
	.cfi_def_cfa_register %rbp
	push	%rbx			/* the callee-saved registers wasm code uses */
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%r8			/* [rbp-48] act */
	push	%rdx			/* [rbp-56] slots */
	push	%rcx			/* [rbp-64] nslots; rsp is 16-aligned again */
	lea	.Llanding(%rip), %rax
	mov	%rax, ACT_LANDING_PC(%r8)
	mov	%rsp, ACT_LANDING_SP(%r8)
	mov	%rbp, ACT_LANDING_FP(%r8)
	lea	15(,%rcx,8), %rax	/* the outgoing area: nslots 8-byte units, 16-aligned */
	and	$-16, %rax
	sub	%rax, %rsp
	xor	%eax, %eax
1:	cmp	%rcx, %rax		/* copy the argument units */
	jae	2f
	mov	(%rdx,%rax,8), %r9
	mov	%r9, (%rsp,%rax,8)
	inc	%rax
	jmp	1b
2:	mov	%rdi, %r15		/* r15 = vmctx */
	mov	VMCTX_MEMORY0_BASE(%r15), %r14
	call	*%rsi
	mov	-48(%rbp), %r8
	mov	%rax, ACT_RET_GPR(%r8)
	movups	%xmm0, ACT_RET_XMM(%r8)	/* all 128 bits: a v128 result */
	mov	-56(%rbp), %rdx
	mov	-64(%rbp), %rcx
	xor	%eax, %eax
3:	cmp	%rcx, %rax		/* copy the units back: the results */
	jae	4f
	mov	(%rsp,%rax,8), %r9
	mov	%r9, (%rdx,%rax,8)
	inc	%rax
	jmp	3b
4:	xor	%eax, %eax		/* 0: returned */
	jmp	.Lleave
.Llanding:				/* rsp = landing_sp, rbp = landing_fp */
	mov	$1, %eax		/* 1: trapped */
.Lleave:
	lea	-40(%rbp), %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size	wj__enter_wasm, .-wj__enter_wasm

/* void wj__unwind(vm_activation *act %rdi) -- never returns */
	.globl	wj__unwind
	.hidden	wj__unwind
	.type	wj__unwind, @function
	.p2align 4
wj__unwind:
	mov	ACT_LANDING_SP(%rdi), %rsp
	mov	ACT_LANDING_FP(%rdi), %rbp
	jmp	*ACT_LANDING_PC(%rdi)
	.size	wj__unwind, .-wj__unwind

/* Called from a trap stub (vmctx.h) through its module's trap thunk:
 * [rsp] returns just past the stub's `call rel32` (5 bytes), rbp is the
 * trapping function's frame, rsp is 16-aligned below the return address.
 * wj__trap records the trap and continues at the landing pad. */
	.globl	wj__trap_trampoline
	.hidden	wj__trap_trampoline
	.type	wj__trap_trampoline, @function
	.p2align 4
wj__trap_trampoline:
	pop	%rdi			/* the return address ... */
	sub	$5, %rdi		/* ... minus the call: the trap site */
	mov	%rbp, %rsi		/* fp */
	call	wj__trap@PLT		/* never returns */
	.size	wj__trap_trampoline, .-wj__trap_trampoline

/* Called from wasm: r15 = host record, argument units at [rsp+8]. */
	.globl	wj__host_trampoline
	.hidden	wj__host_trampoline
	.type	wj__host_trampoline, @function
	.p2align 4
wj__host_trampoline:
	.cfi_startproc
	push	%rbp			/* push rbp; rsp is 16-aligned now */
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	mov	%rsp, %rbp		/* mov rbp, rsp */
	.cfi_def_cfa_register %rbp
	mov	%r15, %rdi		/* record */
	lea	16(%rbp), %rsi		/* slots */
	mov	%rbp, %rdx		/* fp */
	call	wj__host_call@PLT
	mov	16(%rbp), %rax		/* one result: rax, and xmm0 all 16 bytes */
	movups	16(%rbp), %xmm0		/* (a v128; past a 1-unit area lies the
					 * caller's frame, so reading is safe) */
	pop	%rbp
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size	wj__host_trampoline, .-wj__host_trampoline

/* The slow paths that compiled code calls where it keeps values in any
 * register (pinned locals, the operand stack): a frame, then every
 * register the C ABI lets a C function clobber is saved, r11 excepted.
 * rsp is 16-aligned after the push of rbp and stays so. */
	.macro	SAVE_ALL name
	.globl	\name
	.hidden	\name
	.type	\name, @function
	.p2align 4
\name:
	.cfi_startproc
	push	%rbp			/* push rbp */
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	mov	%rsp, %rbp		/* mov rbp, rsp */
	.cfi_def_cfa_register %rbp
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10			/* eight pushes: still 16-aligned */
	sub	$256, %rsp
	movups	%xmm0, 0(%rsp)
	movups	%xmm1, 16(%rsp)
	movups	%xmm2, 32(%rsp)
	movups	%xmm3, 48(%rsp)
	movups	%xmm4, 64(%rsp)
	movups	%xmm5, 80(%rsp)
	movups	%xmm6, 96(%rsp)
	movups	%xmm7, 112(%rsp)
	movups	%xmm8, 128(%rsp)
	movups	%xmm9, 144(%rsp)
	movups	%xmm10, 160(%rsp)
	movups	%xmm11, 176(%rsp)
	movups	%xmm12, 192(%rsp)
	movups	%xmm13, 208(%rsp)
	movups	%xmm14, 224(%rsp)
	movups	%xmm15, 240(%rsp)
	.endm

	.macro	RESTORE_ALL name
	movups	0(%rsp), %xmm0
	movups	16(%rsp), %xmm1
	movups	32(%rsp), %xmm2
	movups	48(%rsp), %xmm3
	movups	64(%rsp), %xmm4
	movups	80(%rsp), %xmm5
	movups	96(%rsp), %xmm6
	movups	112(%rsp), %xmm7
	movups	128(%rsp), %xmm8
	movups	144(%rsp), %xmm9
	movups	160(%rsp), %xmm10
	movups	176(%rsp), %xmm11
	movups	192(%rsp), %xmm12
	movups	208(%rsp), %xmm13
	movups	224(%rsp), %xmm14
	movups	240(%rsp), %xmm15
	add	$256, %rsp
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
	pop	%rbp
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size	\name, .-\name
	.endm

/* Called from an epoch check (vmctx.h): r15 = vmctx. */
	SAVE_ALL wj__epoch_trampoline
	mov	%r15, %rdi		/* vmctx */
	mov	%rbp, %rsi		/* fp */
	call	wj__epoch_expired@PLT
	RESTORE_ALL wj__epoch_trampoline

/* Called through the vmctx (vmctx.h): r15 = vmctx, r11 = the request,
 * which comes back answered in r11. */
	SAVE_ALL wj__lazy_trampoline
	mov	%r15, %rdi		/* vmctx */
	mov	%r11, %rsi		/* request */
	call	wj__lazy@PLT
	mov	%rax, %r11
	RESTORE_ALL wj__lazy_trampoline

	.section .note.GNU-stack,"",@progbits
