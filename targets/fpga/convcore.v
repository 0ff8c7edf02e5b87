// snncc convcore: event-driven conv2d LIF engine with shared kernel weights (Verilog-2005,
// lint-clean with the Verilator linter, -Wall). The PE lanes are PE output channels.
// Per step: for every queued input event (ci, y, x), for every channel group fc and kernel
// offset (dy, dx), one cycle adds the kernel word to the accumulator of output position
// ((y + PH - dy) / SH, (x + PW - dx) / SW) when that position exists; then one update
// cycle per (channel group, position) applies the contract (neuron_update_inc.v), clears
// the accumulator and pushes the PE spikes (index stride HO * WO) downstream; one FIN cycle.
// Neuron n = co * HO * WO + yo * WO + xo (C-major); slot G = fc * HO * WO + pos, lane p.
`timescale 1ns/1ps
`default_nettype none
module convcore #(
    parameter integer CIN = 1, parameter integer H = 8, parameter integer W = 8,
    parameter integer COUT = 4, parameter integer KH = 3, parameter integer KW = 3,
    parameter integer SH = 1, parameter integer SW = 1,
    parameter integer PH = 1, parameter integer PW = 1,
    parameter integer HO = 8, parameter integer WO = 8,
    parameter integer PE = 1,
    parameter integer PIN = 1, parameter integer PSTRIDE = 1, parameter integer IW = 16,
    parameter integer WB = 8, parameter integer VB = 16, parameter integer ACCB = 24,
    parameter integer LB = 6, parameter integer LEAK = 0, parameter integer FRAC = 1,
    parameter integer RESET = 1, parameter integer RESET_VAL = 0, parameter integer CMP_GE = 1,
    parameter WFILE = "w.hex", parameter TFILE = "t.hex",
    parameter BFILE = "b.hex", parameter LFILE = "l.hex"
) (
    input  wire clk, input wire rst, input wire clr, input wire start,
    output wire done,
    input  wire ev_valid, input wire [PIN-1:0] ev_bits, input wire [IW-1:0] ev_base,
    output reg  out_valid, output reg [PE-1:0] out_bits, output reg [IW-1:0] out_base
);
    localparam integer N_IN = CIN * H * W;
    localparam integer NPOS = HO * WO;
    localparam integer N_OUT = COUT * NPOS;
    localparam integer NFC = COUT / PE;
    localparam integer NG = NFC * NPOS;
    localparam integer NK = KH * KW;
    localparam integer NW = NFC * CIN * NK;
    localparam integer GW = NG > 1 ? $clog2(NG) : 1;
    localparam integer FW = NFC > 1 ? $clog2(NFC) : 1;
    localparam integer KB = NK > 1 ? $clog2(NK) : 1;
    localparam integer QW = $clog2(N_IN + 1);
    localparam integer AW = NW > 1 ? $clog2(NW) : 1;
    localparam integer DA = (ACCB > WB ? ACCB : WB) + 1;
    localparam [1:0] IDLE = 2'd0, ACC = 2'd1, UPD = 2'd2, FIN = 2'd3;

    reg [PE*WB-1:0] wmem [0:(1<<AW)-1];     // kernel word (fc, ci, dy, dx): PE channels
    reg [PE*VB-1:0] tmem [0:(1<<GW)-1];
    reg [PE*VB-1:0] bmem [0:(1<<GW)-1];
    reg [PE*LB-1:0] lmem [0:(1<<GW)-1];
    reg [PE*VB-1:0] vmem [0:(1<<GW)-1];
    reg [PE*ACCB-1:0] amem [0:(1<<GW)-1];   // per-neuron synaptic accumulators
    reg [IW-1:0] q [0:(1<<QW)-1];
    integer i;
    initial begin
        $readmemh(WFILE, wmem, 0, NW - 1); $readmemh(TFILE, tmem, 0, NG - 1);
        $readmemh(BFILE, bmem, 0, NG - 1); $readmemh(LFILE, lmem, 0, NG - 1);
        for (i = 0; i < (1 << GW); i = i + 1) amem[i] = {(PE*ACCB){1'b0}};
    end

    reg [1:0] state;
    reg [QW-1:0] e, qn;
    reg [FW-1:0] fc;
    reg [KB-1:0] ko;                  // kernel offset dy * KW + dx
    reg [GW-1:0] g;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [N_OUT-1:0] spk_vec;          // this step's spikes, read by the testbench only
    /* verilator lint_on UNUSEDSIGNAL */
    assign done = (state == FIN);

    /* verilator lint_off UNUSEDSIGNAL */  // wide intermediates, sliced to width
    wire [31:0] qn32 = {{(32-QW){1'b0}}, qn};
    wire [31:0] e32 = {{(32-QW){1'b0}}, e};
    wire signed [31:0] fc32 = $signed({{(32-FW){1'b0}}, fc});
    wire signed [31:0] k32 = $signed({{(32-KB){1'b0}}, ko});
    wire [31:0] g32 = {{(32-GW){1'b0}}, g};
    // the current event and kernel offset -> target output position
    wire [IW-1:0] idx = q[e];
    wire signed [31:0] idx32 = $signed({{(32-IW){1'b0}}, idx});
    wire signed [31:0] ci = idx32 / (H * W);
    wire signed [31:0] y = (idx32 % (H * W)) / W;
    wire signed [31:0] x = idx32 % W;
    wire signed [31:0] ty = y + PH - k32 / KW;
    wire signed [31:0] tx = x + PW - k32 % KW;
    wire hit = ty >= 0 && tx >= 0 && ty % SH == 0 && tx % SW == 0
               && ty / SH < HO && tx / SW < WO;
    wire signed [31:0] tgt32 = fc32 * NPOS + (ty / SH) * WO + tx / SW;
    wire signed [31:0] waddr32 = (fc32 * CIN + ci) * NK + k32;
    wire [GW-1:0] tgt = tgt32[GW-1:0];
    wire [AW-1:0] waddr = waddr32[AW-1:0];
    wire last_k = k32 == NK - 1;
    wire last_fc = fc32 == NFC - 1;
    wire last_e = e32 + 1 >= qn32;
    // update slot g -> first neuron of its PE lanes (lane stride NPOS)
    wire [31:0] obase32 = (g32 / NPOS) * PE * NPOS + g32 % NPOS;
    wire [31:0] ob32 = {{(32-IW){1'b0}}, out_base};

    // ---- event queue append (as in neurocore) ----
    wire [(PIN+1)*QW-1:0] wpos;
    wire [PIN*IW-1:0] evidx;
    prefix_positions #(.N(PIN), .W(QW), .IW(IW), .STRIDE(PSTRIDE)) u_push_pos (
        .base(qn), .bits(ev_bits), .first(ev_base), .pos(wpos), .idx(evidx));

    // ---- add one kernel word to PE accumulators ----
    function [PE*ACCB-1:0] add_lanes(input [PE*ACCB-1:0] aw, input [PE*WB-1:0] ww);
        integer j;
        reg [DA-1:0] a;
        reg [WB-1:0] w;
        begin
            for (j = 0; j < PE; j = j + 1) begin
                w = ww[j*WB +: WB];
                a = {{(DA-ACCB){aw[j*ACCB + ACCB - 1]}}, aw[j*ACCB +: ACCB]}
                    + {{(DA-WB){w[WB-1]}}, w};
                add_lanes[j*ACCB +: ACCB] = a[ACCB-1:0];
            end
        end
    endfunction

    `include "neuron_update_inc.v"
    /* verilator lint_on UNUSEDSIGNAL */

    always @(posedge clk) begin
        out_valid <= 1'b0;
        if (rst) begin
            state <= IDLE; qn <= {QW{1'b0}};
        end else begin
            if (ev_valid) begin
                for (i = 0; i < PIN; i = i + 1)
                    if (ev_bits[i]) q[wpos[i*QW +: QW]] <= evidx[i*IW +: IW];
                qn <= wpos[PIN*QW +: QW];
            end
            if (clr)
                for (i = 0; i < (1 << GW); i = i + 1) vmem[i[GW-1:0]] <= {(PE*VB){1'b0}};
            if (out_valid)  // record the pushed group (lane stride NPOS)
                for (i = 0; i < PE; i = i + 1) spk_vec[ob32 + i * NPOS] <= out_bits[i];
            case (state)
            IDLE: if (start) begin
                state <= qn32 == 0 ? UPD : ACC;
                e <= {QW{1'b0}}; fc <= {FW{1'b0}}; ko <= {KB{1'b0}}; g <= {GW{1'b0}};
                spk_vec <= {N_OUT{1'b0}};
            end
            ACC: begin
                if (hit) amem[tgt] <= add_lanes(amem[tgt], wmem[waddr]);
                if (!last_k) ko <= ko + 1'b1;
                else begin
                    ko <= {KB{1'b0}};
                    if (!last_fc) fc <= fc + 1'b1;
                    else begin
                        fc <= {FW{1'b0}};
                        if (last_e) state <= UPD; else e <= e + 1'b1;
                    end
                end
            end
            UPD: begin
                vmem[g] <= v_part(update_group(vmem[g], tmem[g], bmem[g], lmem[g], amem[g]));
                out_bits <= s_part(update_group(vmem[g], tmem[g], bmem[g], lmem[g], amem[g]));
                amem[g] <= {(PE*ACCB){1'b0}};
                out_valid <= 1'b1; out_base <= obase32[IW-1:0];
                if (g32 == NG - 1) state <= FIN; else g <= g + 1'b1;
            end
            FIN: begin state <= IDLE; qn <= {QW{1'b0}}; end   // queue consumed
            default: state <= IDLE;
            endcase
        end
    end
endmodule
`default_nettype wire
