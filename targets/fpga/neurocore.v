// snncc neurocore: one event-driven LIF layer engine (Verilog-2005).
// Arithmetic contract: docs/fpga-arithmetic.md (mirrors snncc/targets/fpga/contract.py).
// Per step: for each group g of PE neurons, ceil(qn/SIMD) accumulate cycles over the
// queued active input indices (SIMD per cycle), then one update cycle that writes the
// membranes and pushes the group's spikes to the next engine's queue.
`default_nettype none
module neurocore #(
    parameter N_IN = 16, parameter N_OUT = 16, parameter PE = 1, parameter SIMD = 1,
    parameter PIN = 1,           // lanes of the producer (events pushed per cycle)
    parameter IW = 16,           // index width shared by all queues
    parameter WB = 8, parameter VB = 16, parameter ACCB = 24, parameter LB = 6,
    parameter LEAK = 0,          // 0 none, 1 shift (v - (v >>> k)), 2 mul ((v * m) >>> FRAC)
    parameter FRAC = 1,
    parameter RESET = 1,         // 0 to value, 1 subtract threshold, 2 none
    parameter RESET_VAL = 0,
    parameter CMP_GE = 1,        // 1: v >= theta, 0: v > theta
    parameter WFILE = "w.hex", parameter TFILE = "t.hex",
    parameter BFILE = "b.hex", parameter LFILE = "l.hex"
) (
    input  wire clk, input wire rst, input wire clr, input wire start,
    output wire done,
    input  wire ev_valid, input wire [PIN-1:0] ev_bits, input wire [IW-1:0] ev_base,
    output reg  out_valid, output reg [PE-1:0] out_bits, output reg [IW-1:0] out_base
);
    localparam NF = N_OUT / PE;
    localparam SW = (VB > ACCB ? VB : ACCB) + 2;          // exact width of vl + acc + b
    localparam signed [SW-1:0] SMAX = {{(SW-VB+1){1'b0}}, {(VB-1){1'b1}}};
    localparam signed [SW-1:0] SMIN = {{(SW-VB+1){1'b1}}, {(VB-1){1'b0}}};
    localparam signed [VB-1:0] RV = RESET_VAL;
    localparam IDLE = 2'd0, RUN = 2'd1, FIN = 2'd2;

    reg [PE*WB-1:0] wmem [0:NF*N_IN-1];
    reg [PE*VB-1:0] tmem [0:NF-1];
    reg [PE*VB-1:0] bmem [0:NF-1];
    reg [PE*LB-1:0] lmem [0:NF-1];
    reg [PE*VB-1:0] vmem [0:NF-1];
    reg [IW-1:0] q [0:N_IN-1];
    initial begin
        $readmemh(WFILE, wmem); $readmemh(TFILE, tmem);
        $readmemh(BFILE, bmem); $readmemh(LFILE, lmem);
    end

    reg [1:0] state;
    integer qn, g, c, p, s, i, nq;
    reg [PE*ACCB-1:0] acc;
    reg [N_OUT-1:0] spk_vec;          // this step's spikes, read by the testbench
    assign done = (state == FIN);

    // blocking temporaries of one clock edge
    reg signed [ACCB-1:0] a;
    reg signed [WB-1:0] wv;
    reg signed [VB-1:0] v, vl, vs, th, bi, vn;
    reg signed [LB-1:0] lp;
    reg signed [VB+LB-1:0] prod;
    reg signed [SW-1:0] sum;
    reg [PE*ACCB-1:0] acc_n;
    reg [PE*VB-1:0] v_word;
    reg [PE-1:0] spk;

    always @(posedge clk) begin
        out_valid <= 1'b0;
        if (rst) begin
            state <= IDLE; qn <= 0;
        end else begin
            if (ev_valid) begin  // append producer spikes to the event queue, in lane order
                nq = qn;
                for (p = 0; p < PIN; p = p + 1)
                    if (ev_bits[p]) begin q[nq] <= ev_base + p; nq = nq + 1; end
                qn <= nq;
            end
            if (clr)
                for (i = 0; i < NF; i = i + 1) vmem[i] <= {(PE*VB){1'b0}};
            case (state)
            IDLE: if (start) begin
                state <= RUN; g <= 0; c <= 0; acc <= {(PE*ACCB){1'b0}}; spk_vec <= {N_OUT{1'b0}};
            end
            RUN: if (c * SIMD < qn) begin   // accumulate SIMD active synapses per PE
                for (p = 0; p < PE; p = p + 1) begin
                    a = acc[p*ACCB +: ACCB];
                    for (s = 0; s < SIMD; s = s + 1)
                        if (c * SIMD + s < qn) begin
                            wv = wmem[g * N_IN + q[c * SIMD + s]][p*WB +: WB];
                            a = a + wv;
                        end
                    acc_n[p*ACCB +: ACCB] = a;
                end
                acc <= acc_n; c <= c + 1;
            end else begin                  // update the PE neurons of group g
                for (p = 0; p < PE; p = p + 1) begin
                    v  = vmem[g][p*VB +: VB];
                    th = tmem[g][p*VB +: VB];
                    bi = bmem[g][p*VB +: VB];
                    lp = lmem[g][p*LB +: LB];
                    a  = acc[p*ACCB +: ACCB];
                    if (LEAK == 1) vl = v - (v >>> lp);
                    else if (LEAK == 2) begin prod = v * lp; vl = prod >>> FRAC; end
                    else vl = v;
                    sum = vl + a + bi;
                    if (sum > SMAX) vs = SMAX[VB-1:0];
                    else if (sum < SMIN) vs = SMIN[VB-1:0];
                    else vs = sum[VB-1:0];
                    spk[p] = CMP_GE ? (vs >= th) : (vs > th);
                    vn = vs;
                    if (spk[p]) begin
                        if (RESET == 0) vn = RV;
                        else if (RESET == 1) begin
                            sum = vs - th;
                            if (sum > SMAX) vn = SMAX[VB-1:0];
                            else if (sum < SMIN) vn = SMIN[VB-1:0];
                            else vn = sum[VB-1:0];
                        end
                    end
                    v_word[p*VB +: VB] = vn;
                end
                vmem[g] <= v_word;
                spk_vec[g*PE +: PE] <= spk;
                out_valid <= 1'b1; out_bits <= spk; out_base <= g * PE;
                if (g == NF - 1) state <= FIN;
                else begin g <= g + 1; c <= 0; acc <= {(PE*ACCB){1'b0}}; end
            end
            FIN: begin state <= IDLE; qn <= 0; end   // queue consumed
            default: state <= IDLE;
            endcase
        end
    end
endmodule
`default_nettype wire
