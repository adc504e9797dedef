/* The IR in text (ir_print): a block a paragraph, an instruction a line,
 *   v12:i32 = i32.add v10, v11
 * with wasm's names for its operators. */
#include <inttypes.h>

#include "ir.h"

static const char *op_name(uint16_t op)
{
    switch (op) {
    case IR_PHI: return "phi";
    case IR_PARAM: return "param";
    case IR_RESULT: return "result";
    case IR_FUEL: return "fuel";
    case IR_FUEL_CHECK: return "fuel.check";
    case IR_EPOCH_CHECK: return "epoch.check";
    default: {
        const char *n = wasm_op_name(op);
        return n ? n : "?";
    }
    }
}

void ir_print(ir_func *f, FILE *out)
{
    for (uint32_t b = 0; b < f->nblocks; b++) {
        const ir_block *blk = &f->blocks[b];
        fprintf(out, "b%" PRIu32 "%s:", b, blk->loop_header ? " (loop)" : "");
        for (uint32_t i = 0; i < blk->npreds; i++)
            fprintf(out, "%s b%" PRIu32, i ? "," : " <-", blk->preds[i]);
        fputc('\n', out);
        for (ir_ref r = blk->first; r; r = ir_at(f, r)->next) {
            const ir_inst *in = ir_at(f, r);
            fputs("  ", out);
            if (in->type)
                fprintf(out, "v%" PRIu32 ":%s = ", r, wasm_type_name(in->type));
            fputs(op_name(in->op), out);
            bool has_imm = in->op == IR_PARAM || in->op == IR_RESULT || in->op == IR_FUEL ||
                           in->op == IR_FUEL_CHECK ||
                           (in->op >= WASM_OP_I32_CONST && in->op <= WASM_OP_F64_CONST) ||
                           in->op == WASM_OP_CALL || in->op == WASM_OP_GLOBAL_GET ||
                           in->op == WASM_OP_GLOBAL_SET ||
                           (in->op >= WASM_OP_I32_LOAD && in->op <= WASM_OP_I64_STORE32);
            if (has_imm)
                fprintf(out, " %#" PRIx64, in->imm);
            for (uint32_t i = 0; i < in->nargs; i++)
                fprintf(out, "%s v%" PRIu32, i ? "," : "", in->args[i]);
            for (uint32_t i = 0; ir_is_terminator(in->op) && i < blk->nsuccs; i++)
                fprintf(out, "%s b%" PRIu32, i || in->nargs ? "," : "", blk->succs[i]);
            fputc('\n', out);
        }
    }
}
