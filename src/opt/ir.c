/* The IR's storage: blocks, instructions and their lists (ir.h). */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

/* ir_grow, the new elements zeroed or not. */
static bool grow(void **v, uint32_t *cap, size_t size, uint32_t need, bool zero)
{
    if (need <= *cap)
        return true;
    uint32_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, (size_t)n * size);
    if (!p)
        return false;
    if (zero)
        memset((char *)p + (size_t)*cap * size, 0, (size_t)(n - *cap) * size);
    *v = p;
    *cap = n;
    return true;
}

bool ir_grow(void **v, uint32_t *cap, size_t size, uint32_t need)
{
    return grow(v, cap, size, need, true);
}

bool ir_reserve(ir_func *f, uint32_t ninsts)
{
    return grow((void **)&f->insts, &f->insts_cap, sizeof *f->insts, ninsts, false);
}

uint32_t ir_new_block(ir_func *f, uint32_t wasm)
{
    if (f->nblocks + 1 > f->blocks_cap &&
        !ir_grow((void **)&f->blocks, &f->blocks_cap, sizeof *f->blocks, f->nblocks + 1))
        return UINT32_MAX;
    f->blocks[f->nblocks] = (ir_block){.wasm = wasm};
    return f->nblocks++;
}

/* Links r into its block after `after` (0: at the front). */
static void link_after(ir_func *f, ir_block *b, ir_ref after, ir_ref r)
{
    ir_inst *in = ir_at(f, r);
    ir_ref next = after ? ir_at(f, after)->next : b->first;
    in->prev = after;
    in->next = next;
    if (after)
        ir_at(f, after)->next = r;
    else
        b->first = r;
    if (next)
        ir_at(f, next)->prev = r;
    else
        b->last = r;
}

/* Links r into its block: a phi after the block's phis, a terminator at
 * the end, anything else before the terminator. */
static void place(ir_func *f, ir_ref r)
{
    uint16_t op = ir_at(f, r)->op;
    ir_block *b = &f->blocks[ir_at(f, r)->block];
    ir_ref after = b->last;
    if (op == IR_PHI) {
        after = 0;
        for (ir_ref p = b->first; p && ir_at(f, p)->op == IR_PHI; p = ir_at(f, p)->next)
            after = p;
    } else if (after && ir_is_terminator(ir_at(f, after)->op) && !ir_is_terminator(op)) {
        after = ir_at(f, after)->prev;
    }
    link_after(f, b, after, r);
}

/* A new instruction's ref, its slot not written; 0 when out of memory. */
static ir_ref new_ref(ir_func *f)
{
    /* not zeroed: each instruction is written whole as it comes, ref 0
     * too (zeroing the doubled array took 3% of a compile) */
    if (f->ninsts + 2 > f->insts_cap &&
        !grow((void **)&f->insts, &f->insts_cap, sizeof *f->insts, f->ninsts + 2, false))
        return 0;
    if (f->ninsts == 0)
        f->insts[f->ninsts++] = (ir_inst){0}; /* ir_ref 0 is none */
    return f->ninsts++;
}

/* Gives in a copy of the n operands `args`; false when out of memory. */
static bool set_args(ir_func *f, ir_inst *in, uint32_t n, const ir_ref *args)
{
    in->nargs = in->args_cap = n;
    in->args = NULL;
    if (n && !(in->args = wasm_arena_alloc_raw(&f->arena, n, sizeof *in->args)))
        return false;
    if (n)
        memcpy(in->args, args, n * sizeof *args);
    return true;
}

ir_ref ir_append(ir_func *f, uint32_t block, uint16_t op, uint8_t type, uint32_t nargs,
                 const ir_ref *args, uint64_t imm)
{
    ir_ref r = new_ref(f);
    if (!r)
        return 0;
    ir_inst *in = ir_at(f, r);
    *in = (ir_inst){.op = op, .type = type, .block = block, .imm = imm};
    if (!set_args(f, in, nargs, args))
        return 0;
    place(f, r);
    return r;
}

ir_ref ir_append_removed(ir_func *f, uint32_t block, uint16_t op, uint8_t type)
{
    ir_ref r = new_ref(f);
    if (r)
        *ir_at(f, r) = (ir_inst){.op = op, .type = type, .flags = IR_DEAD, .block = block};
    return r;
}

bool ir_revive(ir_func *f, ir_ref r, uint32_t nargs, const ir_ref *args)
{
    ir_inst *in = ir_at(f, r);
    if (!set_args(f, in, nargs, args))
        return false;
    in->flags &= (uint8_t)~IR_DEAD;
    place(f, r);
    return true;
}

/* Appends x to an array in the arena, doubling it when full. */
static bool arena_push(ir_func *f, uint32_t **v, uint32_t *n, uint32_t *cap, uint32_t x)
{
    if (*n == *cap) {
        uint32_t c = *cap ? 2 * *cap : 2;
        uint32_t *p = wasm_arena_alloc_raw(&f->arena, c, sizeof *p);
        if (!p)
            return false;
        if (*n)
            memcpy(p, *v, *n * sizeof *p);
        *v = p;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return true;
}

bool ir_add_arg(ir_func *f, ir_ref r, ir_ref arg)
{
    ir_inst *in = ir_at(f, r);
    return arena_push(f, &in->args, &in->nargs, &in->args_cap, arg);
}

bool ir_add_pred(ir_func *f, uint32_t to, uint32_t from)
{
    ir_block *b = &f->blocks[to];
    return arena_push(f, &b->preds, &b->npreds, &b->preds_cap, from);
}

void ir_remove(ir_func *f, ir_ref r)
{
    ir_inst *in = ir_at(f, r);
    ir_block *b = &f->blocks[in->block];
    if (in->prev)
        ir_at(f, in->prev)->next = in->next;
    else
        b->first = in->next;
    if (in->next)
        ir_at(f, in->next)->prev = in->prev;
    else
        b->last = in->prev;
    in->prev = in->next = 0;
    in->flags |= IR_DEAD;
}

void ir_move(ir_func *f, ir_ref r, uint32_t block)
{
    ir_remove(f, r);
    ir_inst *in = ir_at(f, r);
    ir_block *b = &f->blocks[block];
    in->flags &= (uint8_t)~IR_DEAD;
    in->block = block;
    ir_ref after = b->last;
    if (after && ir_is_terminator(ir_at(f, after)->op))
        after = ir_at(f, after)->prev;
    link_after(f, b, after, r);
}

void ir_free(ir_func *f)
{
    free(f->insts);
    free(f->blocks);
    free(f->inlines);
    wasm_arena_free(&f->arena);
    memset(f, 0, sizeof *f);
}
