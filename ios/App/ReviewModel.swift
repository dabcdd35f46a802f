// The judicial office's case-file review on the phone (mirror of
// ReviewState.kt): the core's queue with the checklist and missing items in
// words, the form (pass, or return with reasons; grade and difficulty corrected
// with a reason), the review through the core's op path, a case's reviews in words.
import Foundation

protocol ReviewGateway: Sendable {
    func queue() async throws -> [ReviewItem]
    func review(_ review: NewReview) async throws -> CaseReview
    func reviews(disputeId: String) async throws -> [ReviewView]
}

final class CoreReviews: ReviewGateway, @unchecked Sendable {
    let client: FieldClient
    init(client: FieldClient) { self.client = client }
    func queue() async throws -> [ReviewItem] { try await offMain { try self.client.reviewQueue() } }
    func review(_ review: NewReview) async throws -> CaseReview { try await offMain { try self.client.reviewCaseFile(review: review) } }
    func reviews(disputeId: String) async throws -> [ReviewView] { try await offMain { try self.client.caseReviews(disputeId: disputeId) } }
}

struct ReviewForm {
    var disputeId: String
    var passed: Bool
    var score: Int = 85
    /// Reasons to return it, one a line.
    var reasons: String = ""
    var grade: Grade?
    var difficulty: Difficulty?
    var correctionReason: String = ""
}

@MainActor
final class ReviewModel: ObservableObject {
    @Published private(set) var queue: [ReviewItem] = []
    @Published var form: ReviewForm?
    @Published private(set) var busy = false
    @Published private(set) var error: UiError?
    private let gateway: ReviewGateway
    init(gateway: ReviewGateway) { self.gateway = gateway }

    func refresh() async {
        do { queue = try await gateway.queue(); error = nil } catch { self.error = UiError.of(error) }
    }

    /// Pass offered only when nothing is missing (the core's list).
    func open(_ disputeId: String) {
        guard let item = queue.first(where: { $0.dispute.dispute.id == disputeId }) else { return }
        form = ReviewForm(disputeId: disputeId, passed: item.missing.isEmpty)
    }

    func submit() async -> Bool {
        guard let f = form, !busy else { return false }
        busy = true; defer { busy = false }
        let review = NewReview(
            disputeId: f.disputeId,
            score: UInt8(max(0, min(100, f.score))),
            passed: f.passed,
            reasons: f.reasons.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
            reviewedGrade: f.grade,
            reviewedDifficulty: f.difficulty,
            correctionReason: f.correctionReason
        )
        do {
            _ = try await gateway.review(review)
            form = nil
            error = nil
            BackgroundSync.schedule()
            await refresh()
            return true
        } catch { self.error = UiError.of(error); return false }
    }
}
