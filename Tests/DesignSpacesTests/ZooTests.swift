import Testing
@testable import DesignSpaces

@Suite struct ZooTests {
    @Test func zooHasAllTwentyFourModels() {
        #expect(Zoo.models.count == 24)
        #expect(Set(Zoo.models.map(\.name)) == Set(publishedZoo.map(\.name)))
    }

    @Test(arguments: publishedZoo.map(\.name))
    func complexityMatchesPycls(name: String) throws {
        let published = try #require(publishedZoo.first { $0.name == name })
        let model = try Zoo.model(named: name)
        let summary = try model.network().summary(resolution: 224)
        #expect(summary.params == published.params)
        #expect(summary.flops == published.flops)
        #expect(summary.acts == published.acts)
        #expect(summary.stages.map(\.depth) == published.depths)
        #expect(summary.stages.map(\.width) == published.widths)
        #expect(summary.stages.map(\.groupWidth) == published.groupWidths.map { Optional($0) })
        #expect(summary.stages.map(\.groups) == published.groups.map { Optional($0) })
        #expect(summary.stages.map(\.outputHeight) == [56, 28, 14, 7])
        if !published.seOther.isEmpty {
            // The summary reports each stage's last block; a depth-1 stage's only block reads the previous width.
            let expected = summary.stages.indices.map { i in
                published.depths[i] == 1 ? published.seFirst[i] : published.seOther[i]
            }
            #expect(summary.stages.map(\.seWidth) == expected)
        } else {
            #expect(summary.stages.allSatisfy { $0.seWidth == 0 })
        }
    }

    @Test func namesAndAliasesResolve() throws {
        #expect(try Zoo.model(named: "regnetx_002").name == "RegNetX-200MF")
        #expect(try Zoo.model(named: "REGNETY-1.6gf").name == "RegNetY-1.6GF")
        #expect(try Zoo.model(named: "regnety_016").name == "RegNetY-1.6GF")
        #expect(try Zoo.model(named: "regnetx200mf").name == "RegNetX-200MF")
        // 3.2GF and 32GF must not collide when separators are ignored.
        #expect(try Zoo.model(named: "regnety-3.2gf").name == "RegNetY-3.2GF")
        #expect(try Zoo.model(named: "regnety-32gf").name == "RegNetY-32GF")
    }

    @Test func unknownNameSuggestsClosest() {
        #expect {
            try Zoo.model(named: "RegNetX-400M")
        } throws: { error in
            guard let error = error as? RegNetError else { return false }
            return error.suggestions.first == "RegNetX-400MF" && error.description.contains("did you mean")
        }
    }

    @Test func publishedErrorsAreCarried() throws {
        let m = try Zoo.model(named: "RegNetY-800MF")
        #expect(m.top1Error == 23.684)
        #expect(m.top5Error == 6.846)
    }

    @Test func otherResolutionsAndClassCounts() throws {
        // RegNetX-200MF at 256 with 10 classes: spatial sizes follow (h - 1) / 2 + 1 at each stride.
        let summary = try Zoo.model(named: "RegNetX-200MF").network(classes: 10).summary(resolution: 225)
        #expect(summary.stages.map(\.outputHeight) == [57, 29, 15, 8])
        #expect(summary.classes == 10)
        #expect(summary.params == 2_684_792 - 368 * 990 - 990)
    }
}

/// Design-space errors carry a kind to switch on besides their message.
@Suite struct RegNetErrorKindTests {
    @Test func kindsSayWhatWentWrong() throws {
        #expect { try Zoo.model(named: "RegNetX-201MF") } throws: { error in
            (error as? RegNetError)?.kind == .unknownName && (error as? RegNetError)?.suggestions.contains("RegNetX-200MF") == true
        }
        #expect { try Network.regNet(depth: 13, w0: 20, wa: 36.44, wm: 2.49, groupWidth: 8) } throws: { ($0 as? RegNetError)?.kind == .invalidParameters }
    }
}
