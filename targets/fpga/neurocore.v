// snncc neurocore: one event-driven LIF layer engine (Verilog-2005,
// lint-clean with the Verilator linter, -Wall). Arithmetic contract: docs/fpga-arithmetic.md, mirrored by
// snncc/targets/fpga/contract.py. Per step and per group g of PE neurons:
// ceil(qn / SIMD) accumulate cycles over the queued active input indices (SIMD per cycle),
// then one update cycle that writes the membranes and pushes the group's spikes to the
// next engine's event queue; one FIN cycle ends the step.
// Datapath intermediates are DW-bit signed (every operand sign-extended), so no Verilog
// signed/unsigned or width-extension rule can change a result; widths are then sliced.
`timescale 1ns/1ps
`default_nettype none
module neurocore #(
    parameter integer N_IN = 16, parameter integer N_OUT = 16,
    parameter integer N_REC = 0,      // N_OUT for a recurrent engine (own spikes of t - 1)
    parameter integer PE = 1, parameter integer SIMD = 1,
    parameter integer PIN = 1,        // producer lanes: events pushed per cycle
    parameter integer PSTRIDE = 1,    // index distance between producer lanes
    parameter integer IW = 16,        // index width shared by all queues
    parameter integer WB = 8, parameter integer VB = 16, parameter integer ACCB = 24,
    parameter integer LB = 6,
    parameter integer LEAK = 0,       // 0 none, 1 shift v - (v >>> k), 2 mul (v * m) >>> FRAC
    parameter integer FRAC = 1,
    parameter integer RESET = 1,      // 0 to RESET_VAL, 1 subtract threshold, 2 none
    parameter integer RESET_VAL = 0,
    parameter integer CMP_GE = 1,     // 1: v >= theta, 0: v > theta
    parameter WFILE = "w.hex", parameter TFILE = "t.hex",
    parameter BFILE = "b.hex", parameter LFILE = "l.hex"
) (
    input  wire clk, input wire rst, input wire clr, input wire start,
    output wire done,
    input  wire ev_valid, input wire [PIN-1:0] ev_bits, input wire [IW-1:0] ev_base,
    output reg  out_valid, output reg [PE-1:0] out_bits, output reg [IW-1:0] out_base
);
    localparam integer NF = N_OUT / PE;
    localparam integer GW = NF > 1 ? $clog2(NF) : 1;
    localparam integer NCOL = N_IN + N_REC;          // weight columns per group
    localparam integer QW = $clog2(N_IN + 1);
    localparam integer CW = $clog2(NCOL + 1);
    localparam integer RQW = $clog2(N_OUT + 1);
    localparam integer RA = N_OUT > 1 ? $clog2(N_OUT) : 1;
    localparam integer AW = NF * NCOL > 1 ? $clog2(NF * NCOL) : 1;
    // DA holds any accumulator step (the final sums fit ACCB, checked by validation)
    localparam integer DA = (ACCB > WB ? ACCB : WB) + 1;
    localparam [1:0] IDLE = 2'd0, RUN = 2'd1, FIN = 2'd2;

    reg [PE*WB-1:0] wmem [0:(1<<AW)-1];
    reg [PE*VB-1:0] tmem [0:(1<<GW)-1];
    reg [PE*VB-1:0] bmem [0:(1<<GW)-1];
    reg [PE*LB-1:0] lmem [0:(1<<GW)-1];
    reg [PE*VB-1:0] vmem [0:(1<<GW)-1];
    reg [IW-1:0] q [0:(1<<QW)-1];
    // own spikes, double-buffered: read bank rb holds step t - 1, bank ~rb collects step t
    reg [IW-1:0] rq0 [0:(1<<RA)-1];
    reg [IW-1:0] rq1 [0:(1<<RA)-1];
    reg [RQW-1:0] rqn0, rqn1;
    reg rb;
    initial begin
        $readmemh(WFILE, wmem, 0, NF * NCOL - 1); $readmemh(TFILE, tmem, 0, NF - 1);
        $readmemh(BFILE, bmem, 0, NF - 1); $readmemh(LFILE, lmem, 0, NF - 1);
    end

    reg [1:0] state;
    reg [GW-1:0] g;
    reg [CW-1:0] c;                   // chunk counter, at most ceil(NCOL / SIMD)
    reg [QW-1:0] qn;                  // queued active inputs
    reg [PE*ACCB-1:0] acc;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [N_OUT-1:0] spk_vec;          // this step's spikes, read by the testbench only
    /* verilator lint_on UNUSEDSIGNAL */
    assign done = (state == FIN);

    /* verilator lint_off UNUSEDSIGNAL */  // wide intermediates, sliced to width
    wire [31:0] c32 = {{(32-CW){1'b0}}, c};
    wire [31:0] qn32 = {{(32-QW){1'b0}}, qn};
    wire [31:0] rqn32 = {{(32-RQW){1'b0}}, rb ? rqn1 : rqn0};
    wire [31:0] total32 = qn32 + rqn32;       // feed-forward events, then own spikes
    wire [31:0] g32 = {{(32-GW){1'b0}}, g};
    wire [31:0] gbase32 = g32 * PE;
    wire [31:0] ob32 = {{(32-IW){1'b0}}, out_base};
    wire accumulate = c32 * SIMD < total32;

    // ---- event queue append: producer lanes in order, positions by prefix count ----
    wire [(PIN+1)*QW-1:0] wpos;
    wire [PIN*IW-1:0] evidx;
    prefix_positions #(.N(PIN), .W(QW), .IW(IW), .STRIDE(PSTRIDE)) u_push_pos (
        .base(qn), .bits(ev_bits), .first(ev_base), .pos(wpos), .idx(evidx));

    // ---- SIMD weight reads at the queued input indices ----
    genvar s;
    wire [SIMD-1:0] svalid;
    wire [SIMD*PE*WB-1:0] wwords;
    generate
        for (s = 0; s < SIMD; s = s + 1) begin : syn
            wire [31:0] pos32 = c32 * SIMD + s;
            wire [31:0] rpos32 = pos32 - qn32;
            wire [IW-1:0] idx = q[pos32[QW-1:0]];
            wire [IW-1:0] ridx = rb ? rq1[rpos32[RA-1:0]] : rq0[rpos32[RA-1:0]];
            wire [31:0] col32 = pos32 < qn32 ? {{(32-IW){1'b0}}, idx}
                                             : N_IN + {{(32-IW){1'b0}}, ridx};
            wire [31:0] addr32 = g32 * NCOL + col32;
            assign svalid[s] = pos32 < total32;
            assign wwords[s*PE*WB +: PE*WB] = wmem[addr32[AW-1:0]];
        end
    endgenerate

    // ---- own spikes of this step: positions in the write bank, indices ----
    wire [(PE+1)*RQW-1:0] rwpos;
    wire [PE*IW-1:0] ownidx;
    prefix_positions #(.N(PE), .W(RQW), .IW(IW), .STRIDE(1)) u_own_pos (
        .base(rb ? rqn0 : rqn1), .bits(out_bits), .first(out_base), .pos(rwpos), .idx(ownidx));

    // ---- accumulate: each PE lane adds its weights of the valid SIMD lanes ----
    function [PE*ACCB-1:0] accumulate_group(input [PE*ACCB-1:0] aw,
                                            input [SIMD*PE*WB-1:0] ww, input [SIMD-1:0] ok);
        integer k, m;
        reg [DA-1:0] a;
        reg [WB-1:0] w;
        begin
            for (k = 0; k < PE; k = k + 1) begin
                a = {{(DA-ACCB){aw[k*ACCB + ACCB - 1]}}, aw[k*ACCB +: ACCB]};
                for (m = 0; m < SIMD; m = m + 1) begin
                    w = ww[(m*PE + k)*WB +: WB];
                    if (ok[m]) a = a + {{(DA-WB){w[WB-1]}}, w};
                end
                accumulate_group[k*ACCB +: ACCB] = a[ACCB-1:0];
            end
        end
    endfunction

    `include "neuron_update_inc.v"
    /* verilator lint_on UNUSEDSIGNAL */

    integer i;
    always @(posedge clk) begin
        out_valid <= 1'b0;
        if (rst) begin
            state <= IDLE; qn <= {QW{1'b0}}; rb <= 1'b0;
            rqn0 <= {RQW{1'b0}}; rqn1 <= {RQW{1'b0}};
        end else begin
            if (ev_valid) begin
                for (i = 0; i < PIN; i = i + 1)
                    if (ev_bits[i]) q[wpos[i*QW +: QW]] <= evidx[i*IW +: IW];
                qn <= wpos[PIN*QW +: QW];
            end
            if (N_REC > 0 && out_valid) begin   // collect own spikes for the next step
                for (i = 0; i < PE; i = i + 1)
                    if (out_bits[i]) begin
                        if (rb) rq0[rwpos[i*RQW +: RA]] <= ownidx[i*IW +: IW];
                        else    rq1[rwpos[i*RQW +: RA]] <= ownidx[i*IW +: IW];
                    end
                if (rb) rqn0 <= rwpos[PE*RQW +: RQW];
                else    rqn1 <= rwpos[PE*RQW +: RQW];
            end
            if (clr) begin
                rb <= 1'b0; rqn0 <= {RQW{1'b0}}; rqn1 <= {RQW{1'b0}};
            end
            if (clr)
                for (i = 0; i < (1 << GW); i = i + 1) vmem[i[GW-1:0]] <= {(PE*VB){1'b0}};
            if (out_valid) spk_vec[ob32 +: PE] <= out_bits;  // record the pushed group
            case (state)
            IDLE: if (start) begin
                state <= RUN; g <= {GW{1'b0}}; c <= {CW{1'b0}};
                acc <= {(PE*ACCB){1'b0}}; spk_vec <= {N_OUT{1'b0}};
            end
            RUN: if (accumulate) begin
                acc <= accumulate_group(acc, wwords, svalid); c <= c + 1'b1;
            end else begin
                vmem[g] <= v_part(update_group(vmem[g], tmem[g], bmem[g], lmem[g], acc));
                out_bits <= s_part(update_group(vmem[g], tmem[g], bmem[g], lmem[g], acc));
                out_valid <= 1'b1; out_base <= gbase32[IW-1:0];
                if (g32 == NF - 1) state <= FIN;
                else begin g <= g + 1'b1; c <= {CW{1'b0}}; acc <= {(PE*ACCB){1'b0}}; end
            end
            FIN: begin                            // queue and previous own spikes consumed
                state <= IDLE; qn <= {QW{1'b0}}; rb <= ~rb;
                if (rb) rqn1 <= {RQW{1'b0}}; else rqn0 <= {RQW{1'b0}};
            end
            default: state <= IDLE;
            endcase
        end
    end
endmodule
`default_nettype wire
