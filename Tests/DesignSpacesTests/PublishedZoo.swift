// Published pycls figures for the 24 zoo models (pycls dev/model_complexity.json and the
// configs' stage lists), as tabulated in the project's RegNet reference. These are the reference
// values the IR must reproduce, not outputs of this package.
struct PublishedModel {
    var name: String
    var params: Int
    var flops: Int
    var acts: Int
    var depths: [Int]
    var widths: [Int]
    var groupWidths: [Int]
    var groups: [Int]
    var seFirst: [Int]
    var seOther: [Int]
}

let publishedZoo: [PublishedModel] = [
        .init(name: "RegNetX-200MF", params: 2684792, flops: 199040872, acts: 2164056, depths: [1, 1, 4, 7], widths: [24, 56, 152, 368], groupWidths: [8, 8, 8, 8], groups: [3, 7, 19, 46], seFirst: [], seOther: []),
        .init(name: "RegNetX-400MF", params: 5157512, flops: 397678568, acts: 3143272, depths: [1, 2, 7, 12], widths: [32, 64, 160, 384], groupWidths: [16, 16, 16, 16], groups: [2, 4, 10, 24], seFirst: [], seOther: []),
        .init(name: "RegNetX-600MF", params: 6196040, flops: 600891112, acts: 3975096, depths: [1, 3, 5, 7], widths: [48, 96, 240, 528], groupWidths: [24, 24, 24, 24], groups: [2, 4, 10, 22], seFirst: [], seOther: []),
        .init(name: "RegNetX-800MF", params: 7259656, flops: 799700712, acts: 5148744, depths: [1, 3, 7, 5], widths: [64, 128, 288, 672], groupWidths: [16, 16, 16, 16], groups: [4, 8, 18, 42], seFirst: [], seOther: []),
        .init(name: "RegNetX-1.6GF", params: 9190136, flops: 1602850792, acts: 7933512, depths: [2, 4, 10, 2], widths: [72, 168, 408, 912], groupWidths: [24, 24, 24, 24], groups: [3, 7, 17, 38], seFirst: [], seOther: []),
        .init(name: "RegNetX-3.2GF", params: 15296552, flops: 3176622952, acts: 11367432, depths: [2, 6, 15, 2], widths: [96, 192, 432, 1008], groupWidths: [48, 48, 48, 48], groups: [2, 4, 9, 21], seFirst: [], seOther: []),
        .init(name: "RegNetX-4.0GF", params: 22118248, flops: 3964499816, acts: 12201608, depths: [2, 5, 14, 2], widths: [80, 240, 560, 1360], groupWidths: [40, 40, 40, 40], groups: [2, 6, 14, 34], seFirst: [], seOther: []),
        .init(name: "RegNetX-6.4GF", params: 26209256, flops: 6460292264, acts: 16369744, depths: [2, 4, 10, 1], widths: [168, 392, 784, 1624], groupWidths: [56, 56, 56, 56], groups: [3, 7, 14, 29], seFirst: [], seOther: []),
        .init(name: "RegNetX-8.0GF", params: 39572648, flops: 7995133416, acts: 14059688, depths: [2, 5, 15, 1], widths: [80, 240, 720, 1920], groupWidths: [80, 120, 120, 120], groups: [1, 2, 6, 16], seFirst: [], seOther: []),
        .init(name: "RegNetX-12GF", params: 46106056, flops: 12086679016, acts: 21366568, depths: [2, 5, 11, 1], widths: [224, 448, 896, 2240], groupWidths: [112, 112, 112, 112], groups: [2, 4, 8, 20], seFirst: [], seOther: []),
        .init(name: "RegNetX-16GF", params: 54278536, flops: 15940756456, acts: 25515496, depths: [2, 6, 13, 1], widths: [256, 512, 896, 2048], groupWidths: [128, 128, 128, 128], groups: [2, 4, 7, 16], seFirst: [], seOther: []),
        .init(name: "RegNetX-32GF", params: 107811560, flops: 31735930792, acts: 36302160, depths: [2, 7, 13, 1], widths: [336, 672, 1344, 2520], groupWidths: [168, 168, 168, 168], groups: [2, 4, 8, 15], seFirst: [], seOther: []),
        .init(name: "RegNetY-200MF", params: 3162996, flops: 199519076, acts: 2168052, depths: [1, 1, 4, 7], widths: [24, 56, 152, 368], groupWidths: [8, 8, 8, 8], groups: [3, 7, 19, 46], seFirst: [8, 6, 14, 38], seOther: [6, 14, 38, 92]),
        .init(name: "RegNetY-400MF", params: 4344144, flops: 401849056, acts: 3892496, depths: [1, 3, 6, 6], widths: [48, 104, 208, 440], groupWidths: [8, 8, 8, 8], groups: [6, 13, 26, 55], seFirst: [8, 12, 26, 52], seOther: [12, 26, 52, 110]),
        .init(name: "RegNetY-600MF", params: 6055160, flops: 601227608, acts: 4334296, depths: [1, 3, 7, 4], widths: [48, 112, 256, 608], groupWidths: [16, 16, 16, 16], groups: [3, 7, 16, 38], seFirst: [8, 12, 28, 64], seOther: [12, 28, 64, 152]),
        .init(name: "RegNetY-800MF", params: 6263168, flops: 797183328, acts: 5249888, depths: [1, 3, 8, 2], widths: [64, 128, 320, 768], groupWidths: [16, 16, 16, 16], groups: [4, 8, 20, 48], seFirst: [8, 16, 32, 80], seOther: [16, 32, 80, 192]),
        .init(name: "RegNetY-1.6GF", params: 11202430, flops: 1612087326, acts: 8044814, depths: [2, 6, 17, 2], widths: [48, 120, 336, 888], groupWidths: [24, 24, 24, 24], groups: [2, 5, 14, 37], seFirst: [8, 12, 30, 84], seOther: [12, 30, 84, 222]),
        .init(name: "RegNetY-3.2GF", params: 19436338, flops: 3176496162, acts: 11263418, depths: [2, 5, 13, 1], widths: [72, 216, 576, 1512], groupWidths: [24, 24, 24, 24], groups: [3, 9, 24, 63], seFirst: [8, 18, 54, 144], seOther: [18, 54, 144, 378]),
        .init(name: "RegNetY-4.0GF", params: 20646656, flops: 3973301344, acts: 12287200, depths: [2, 6, 12, 2], widths: [128, 192, 512, 1088], groupWidths: [64, 64, 64, 64], groups: [2, 3, 8, 17], seFirst: [8, 32, 48, 128], seOther: [32, 48, 128, 272]),
        .init(name: "RegNetY-6.4GF", params: 30583252, flops: 6355221876, acts: 16407188, depths: [2, 7, 14, 2], widths: [144, 288, 576, 1296], groupWidths: [72, 72, 72, 72], groups: [2, 4, 8, 18], seFirst: [8, 36, 72, 144], seOther: [36, 72, 144, 324]),
        .init(name: "RegNetY-8.0GF", params: 39180068, flops: 7963074196, acts: 17968916, depths: [2, 4, 10, 1], widths: [168, 448, 896, 2016], groupWidths: [56, 56, 56, 56], groups: [3, 8, 16, 36], seFirst: [8, 42, 112, 224], seOther: [42, 112, 224, 504]),
        .init(name: "RegNetY-12GF", params: 51822544, flops: 12092395504, acts: 21384496, depths: [2, 5, 11, 1], widths: [224, 448, 896, 2240], groupWidths: [112, 112, 112, 112], groups: [2, 4, 8, 20], seFirst: [8, 56, 112, 224], seOther: [56, 112, 224, 560]),
        .init(name: "RegNetY-16GF", params: 83590140, flops: 15911534044, acts: 23041228, depths: [2, 4, 11, 1], widths: [224, 448, 1232, 3024], groupWidths: [112, 112, 112, 112], groups: [2, 4, 11, 27], seFirst: [8, 56, 112, 308], seOther: [56, 112, 308, 756]),
        .init(name: "RegNetY-32GF", params: 145046770, flops: 32279583362, acts: 30261570, depths: [2, 5, 12, 1], widths: [232, 696, 1392, 3712], groupWidths: [232, 232, 232, 232], groups: [1, 3, 6, 16], seFirst: [8, 58, 174, 348], seOther: [58, 174, 348, 928]),
]
