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
	lea	15(,%rcx,8), %rax	/* the outgoing area: nslots * 8, 16-aligned */
	and	$-16, %rax
	sub	%rax, %rsp
	xor	%eax, %eax
1:	cmp	%rcx, %rax		/* copy the argument slots */
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
	movq	%xmm0, ACT_RET_XMM(%r8)
	mov	-56(%rbp), %rdx
	mov	-64(%rbp), %rcx
	xor	%eax, %eax
3:	cmp	%rcx, %rax		/* copy the slots back: the results */
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

/* Called from wasm: r15 = host record, argument slots at [rsp+8]. */
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
	mov	16(%rbp), %rax		/* one result: rax and xmm0 */
	movq	16(%rbp), %xmm0
	pop	%rbp
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size	wj__host_trampoline, .-wj__host_trampoline

	.section .note.GNU-stack,"",@progbits
