#pragma once
// The embedded default data of `gradscope bottleneck`: a few paragraphs of plain English written
// for this project, so the main job runs with no files and no network. Byte-level (V = 256).

namespace gs::cli {

inline constexpr const char* kDefaultText = R"TEXT(
A language model reads a stream of tokens and, at every position, guesses the next one. Its last
layer is a table of vectors, one per word of the vocabulary. The model turns its hidden state into
a score for every word by taking a dot product with each row of that table, and a softmax turns the
scores into probabilities. When the model guesses wrong, the loss asks every score to move: the
right word up, the others down, each by an amount that depends on how sure the model was.

That request is a vector as long as the vocabulary. It is the exact gradient of the loss with
respect to the scores, and it says precisely what the model should have done differently. But the
model cannot change the scores directly. It can only change its hidden state, and the hidden state
is much shorter than the vocabulary. Backpropagation multiplies the long request by the transpose of
the table, and everything in the request that the table cannot express is multiplied to zero.

Think of a wall with a narrow window. Light from the whole room falls on the wall, but only what
passes through the window reaches the garden outside. The garden is the rest of the network: the
attention layers, the feed forward layers, the embeddings. They grow in the light that comes through
the window and never see the rest.

How much light is lost? If the request pointed in a random direction, a window of width D in a wall
of width V would pass about the square root of D over V of its length. Real requests are not random,
but they are not kind either. Most of their length lies outside the window, and it stays there from
the first step of training to the last.

This program lets you watch that happen. It trains a small model on this very text, one byte at a
time, and after every few steps it stops to measure. It computes the exact request, splits it into
the part the window passes and the part it destroys, and follows the gradient down through every
node of the network, naming each one. Then it sends only the destroyed part backwards and checks
that nothing arrives below the head. Nothing does. What the head destroys never comes back.

None of this is a flaw in a particular model. It follows from the shapes alone: a long vector
squeezed through a short one. A bigger hidden state widens the window, a bigger vocabulary widens
the wall, and the ratio between them decides how much of every lesson the model can hear.

The same holds for a recurrent network and for a state space model, because the window belongs to
the head and not to whatever sits below it. Swap the backbone and the numbers barely move. Narrow
the head on purpose, with a factorized table of low rank, and they move a great deal: the model
learns more slowly, and the gap is large.

So the next time a loss curve flattens, remember the window. The gradient knew what to do. Most of
it simply could not get through.
)TEXT";

}  // namespace gs::cli
