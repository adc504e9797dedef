/* Linear scan (Poletto and Sarkar) over the intervals of live.c, in code
 * order: at each definition, intervals that ended give their registers
 * back; a value takes a free register of its class, or the interval that
 * ends last (it or an active one) goes to a stack slot. A value live
 * across a call goes to its slot from the start, since calls clobber every
 * register. A parameter's slot is its home in the caller's area. */
#include <stdlib.h>

#include "backend.h"

static const int8_t gprs[] = {RBX, RSI, RDI, R8, R9, R10, R12, R13};
#define NXMM 14 /* xmm0-13 */
#define NREGS (sizeof gprs + NXMM)

static bool in_xmm(uint8_t t) { return t == WASM_F32 || t == WASM_F64 || t == WASM_V128; }

static int32_t new_slot(backend *be)
{
    return -(int32_t)(16 + 8 * be->frame_slots++);
}

bool allocate_registers(backend *be)
{
    ir_func *f = be->ir;
    uint32_t nv = f->ninsts;
    be->reg = malloc(nv);
    be->slot = calloc(nv, sizeof *be->slot);
    uint32_t *calls = malloc(nv * sizeof *calls);
    if (!be->reg || !be->slot || !calls) {
        free(calls);
        return be_fail(be, "out of memory");
    }
    /* call positions, ascending */
    uint32_t ncalls = 0;
    for (uint32_t i = 0; i < be->norder; i++)
        for (ir_ref r = f->blocks[be->order[i]].first; r; r = ir_at(f, r)->next)
            if (ir_at(f, r)->op == WASM_OP_CALL)
                calls[ncalls++] = 2 * be->pos[r];
    ir_ref active[NREGS];
    uint32_t nactive = 0;
    ir_ref holder[32] = {0}; /* per register id: the value holding it */
    for (ir_ref r = 0; r < nv; r++)
        be->reg[r] = NO_REG;
    uint32_t c = 0; /* the first call at or after the current definition */
    for (uint32_t i = 0; i < be->norder; i++) {
        for (ir_ref v = f->blocks[be->order[i]].first; v; v = ir_at(f, v)->next) {
            ir_inst *in = ir_at(f, v);
            if (!in->type || is_const_op(in->op) || be->uses[v] == 0)
                continue;
            uint32_t start = be->start[v], end = be->end[v];
            /* expire */
            for (uint32_t a = 0; a < nactive;) {
                if (be->end[active[a]] < start) {
                    holder[(int)be->reg[active[a]]] = 0;
                    active[a] = active[--nactive];
                } else {
                    a++;
                }
            }
            while (c < ncalls && calls[c] < start)
                c++;
            bool across_call = c < ncalls && calls[c] < end && calls[c] + 1 < end;
            int reg = NO_REG;
            if (!across_call) {
                if (in_xmm(in->type)) {
                    for (int x = 0; x < NXMM && reg == NO_REG; x++)
                        if (!holder[XREG(x)])
                            reg = XREG(x);
                } else {
                    for (size_t g = 0; g < sizeof gprs && reg == NO_REG; g++)
                        if (!holder[gprs[g]])
                            reg = gprs[g];
                }
                if (reg == NO_REG) {
                    /* spill whichever of the class ends last */
                    uint32_t victim = UINT32_MAX;
                    for (uint32_t a = 0; a < nactive; a++) {
                        ir_ref w = active[a];
                        if (in_xmm(ir_at(f, w)->type) == in_xmm(in->type) &&
                            be->end[w] > end && (victim == UINT32_MAX ||
                                                 be->end[w] > be->end[active[victim]]))
                            victim = a;
                    }
                    if (victim != UINT32_MAX) {
                        ir_ref w = active[victim];
                        reg = be->reg[w];
                        be->reg[w] = NO_REG;
                        be->slot[w] = ir_at(f, w)->op == IR_PARAM ? 0 : new_slot(be);
                        active[victim] = active[--nactive];
                    }
                }
            }
            if (reg != NO_REG) {
                be->reg[v] = (int8_t)reg;
                holder[reg] = v;
                active[nactive++] = v;
            } else if (in->op != IR_PARAM) {
                be->slot[v] = new_slot(be);
            }
        }
    }
    /* parameters without a register stay in their home */
    for (ir_ref v = 1; v < nv; v++) {
        ir_inst *in = ir_at(f, v);
        if (in->op == IR_PARAM && !(in->flags & IR_DEAD) && be->reg[v] == NO_REG) {
            uint32_t u = 0;
            for (uint32_t p = 0; p < in->imm; p++)
                u += vm_slot_units(f->type->params[p]);
            be->slot[v] = (int32_t)(16 + VM_UNIT * u);
        }
    }
    free(calls);
    return true;
}
